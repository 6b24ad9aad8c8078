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

} // namespace iots::core
