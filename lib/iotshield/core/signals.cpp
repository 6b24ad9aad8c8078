#include "iotshield/core/signals.hpp"

#include <atomic>
#include <csignal>

namespace iots::core {

namespace {
std::atomic<int> g_stop_signal{0}; // NOLINT: written by the signal handler
std::atomic<bool> g_usr1{false};   // NOLINT: written by the signal handler
static_assert(std::atomic<int>::is_always_lock_free);
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop(int sig) {
    g_stop_signal.store(sig);
}
extern "C" void on_usr1(int /*sig*/) {
    g_usr1.store(true);
}
extern "C" void on_interrupt(int /*sig*/) {}

void set_handler(int sig, void (*handler)(int)) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: blocking calls return EINTR
    sigaction(sig, &sa, nullptr);
}
} // namespace

void install_signal_handlers() {
    set_handler(SIGINT, on_stop);
    set_handler(SIGTERM, on_stop);
    set_handler(SIGUSR1, on_usr1);
    set_handler(SIGURG, on_interrupt);
    std::signal(SIGPIPE, SIG_IGN); // every write is checked; EPIPE ends the tool cleanly
}

bool stop_requested() noexcept {
    return g_stop_signal.load() != 0;
}
void request_stop() noexcept {
    g_stop_signal.store(-1);
}
bool take_counters_request() noexcept {
    return g_usr1.exchange(false);
}
int interrupt_signal() noexcept {
    return SIGURG;
}
int stop_signal() noexcept {
    return g_stop_signal.load();
}

} // namespace iots::core
