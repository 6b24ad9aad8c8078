#pragma once
// SIGINT/SIGTERM ask a tool to stop after the current record (DESIGN §5); SIGUSR1 asks for
// counters. Handlers are installed without SA_RESTART so that a blocking read returns EINTR and the
// loop can look. The flags are the one process-wide state: a signal handler can reach nothing else.

namespace iots::core {

void install_signal_handlers();
[[nodiscard]] bool stop_requested() noexcept;
void request_stop() noexcept;
// True once per SIGUSR1 received since the last call.
[[nodiscard]] bool take_counters_request() noexcept;
// Signal number that caused the stop, or 0.
[[nodiscard]] int stop_signal() noexcept;
// Sent to one thread (pthread_kill) to interrupt a blocking call of it, a write to a reader that
// stopped reading, with no other effect: its handler does nothing and does not restart the call.
// SIGURG: ignored by default, so harmless to a thread or process without the handler.
[[nodiscard]] int interrupt_signal() noexcept;

} // namespace iots::core
