#pragma once
// --exec CMD: `/bin/sh -c CMD` once per alert, the alert JSON (one line) on its stdin, its stdout
// sent to our stderr (stdout carries data only). Never blocks the stream: the child runs on its
// own, is reaped by poll(), and its process group is killed when it outlives the timeout. With
// max_running children busy, alerts wait in a bounded queue (a burst of alerts is not lost); when
// that is full too, the alert is not passed on, and that is counted.
#include "iotshield/core/log.hpp"
#include "iotshield/core/time.hpp"

#include <cstdint>
#include <deque>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace iots::alert {

struct ExecOptions {
    std::string command;
    core::Millis timeout_ms = 10000;
    std::size_t max_running = 4;
    std::size_t max_pending = 64;
};

struct ExecCounters {
    std::uint64_t started = 0;
    std::uint64_t ok = 0;
    std::uint64_t failed = 0;    // exit status not 0, or could not start
    std::uint64_t timed_out = 0; // killed after the timeout
    std::uint64_t skipped = 0;   // queue full
};

class ExecRunner {
public:
    ExecRunner(ExecOptions options, const core::Logger& log);
    ~ExecRunner(); // kills what still runs
    ExecRunner(const ExecRunner&) = delete;
    ExecRunner& operator=(const ExecRunner&) = delete;

    // env: extra NAME=value pairs (IOTS_ALERT_ID, IOTS_ALERT_SEVERITY, ...).
    void run(const std::string& json, const std::vector<std::pair<std::string, std::string>>& env);
    // Reaps finished children and kills overdue ones (monotonic milliseconds).
    void reap(core::Millis now);
    // Milliseconds until the next child's deadline, or -1 when none runs.
    [[nodiscard]] core::Millis next_deadline_in(core::Millis now) const;
    // Waits for every child, killing those past their deadline.
    void finish();
    [[nodiscard]] std::size_t running() const noexcept { return m_children.size(); }
    [[nodiscard]] std::size_t pending() const noexcept { return m_pending.size(); }
    [[nodiscard]] const ExecCounters& counters() const noexcept { return m_counters; }

    // Monotonic clock in milliseconds.
    [[nodiscard]] static core::Millis monotonic_ms() noexcept;

private:
    struct Pending {
        std::string json;
        std::vector<std::pair<std::string, std::string>> env;
    };
    void start(const Pending& p, core::Millis now);
    void start_pending(core::Millis now);

    struct Child {
        pid_t pid;
        core::Millis deadline;
        std::string alert_id;
        bool killed = false;
    };
    ExecOptions m_options;
    const core::Logger& m_log;
    std::vector<Child> m_children;
    std::deque<Pending> m_pending;
    ExecCounters m_counters;
};

} // namespace iots::alert
