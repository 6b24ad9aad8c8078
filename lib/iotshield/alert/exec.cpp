#include "iotshield/alert/exec.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace iots::alert {

core::Millis ExecRunner::monotonic_ms() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<core::Millis>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

ExecRunner::ExecRunner(ExecOptions options, const core::Logger& log)
    : m_options(std::move(options)), m_log(log) {}

ExecRunner::~ExecRunner() {
    for (auto& c : m_children) {
        kill(-c.pid, SIGKILL);
        waitpid(c.pid, nullptr, 0);
    }
}

void ExecRunner::run(const std::string& json,
                     const std::vector<std::pair<std::string, std::string>>& env) {
    const core::Millis now = monotonic_ms();
    reap(now);
    if (m_children.size() < m_options.max_running && m_pending.empty()) {
        start(Pending{json, env}, now);
        return;
    }
    if (m_pending.size() >= m_options.max_pending) {
        ++m_counters.skipped;
        m_log.warn("--exec: {} commands running and {} waiting; alert not passed on",
                   m_children.size(), m_pending.size());
        return;
    }
    m_pending.push_back(Pending{json, env});
}

void ExecRunner::start_pending(core::Millis now) {
    while (!m_pending.empty() && m_children.size() < m_options.max_running) {
        start(m_pending.front(), now);
        m_pending.pop_front();
    }
}

void ExecRunner::start(const Pending& p, core::Millis now) {
    const auto& json = p.json;
    const auto& env = p.env;
    // Everything the child needs is built before fork(): other threads may hold malloc's lock.
    std::vector<std::string> env_strings;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e)
        env_strings.emplace_back(*e);
    for (const auto& [k, v] : env)
        env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings)
        envp.push_back(s.data());
    envp.push_back(nullptr);
    const char* shell = "/bin/sh";
    std::string cmd = m_options.command;

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        ++m_counters.failed;
        m_log.warn("--exec: pipe: {}", std::strerror(errno));
        return;
    }
    const pid_t pid = fork();
    if (pid < 0) {
        ++m_counters.failed;
        m_log.warn("--exec: fork: {}", std::strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) { // child: async-signal-safe calls only
        setpgid(0, 0);
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigaction(SIGPIPE, &dfl, nullptr);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        dup2(fds[0], 0);
        dup2(2, 1);
        execle(shell, "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr), envp.data());
        _exit(127);
    }
    setpgid(pid, pid); // also here, so a kill right after fork reaches the group
    close(fds[0]);
    const std::string line = json + "\n";
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    const ssize_t n = write(fds[1], line.data(), line.size()); // < pipe buffer: never blocks
    if (n < 0 && errno != EPIPE)
        m_log.warn("--exec: writing the alert to the command: {}", std::strerror(errno));
    close(fds[1]);
    ++m_counters.started;
    std::string id;
    for (const auto& [k, v] : env)
        if (k == "IOTS_ALERT_ID")
            id = v;
    m_children.push_back(Child{pid, now + m_options.timeout_ms, id});
}

void ExecRunner::reap(core::Millis now) {
    for (std::size_t i = 0; i < m_children.size();) {
        Child& c = m_children[i];
        int status = 0;
        const pid_t r = waitpid(c.pid, &status, WNOHANG);
        if (r == c.pid) {
            if (c.killed) {
                ++m_counters.timed_out;
                m_log.warn("--exec: alert {}: command killed after {} ms", c.alert_id,
                           m_options.timeout_ms);
            } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                ++m_counters.ok;
            } else {
                ++m_counters.failed;
                m_log.warn("--exec: alert {}: command {} {}", c.alert_id,
                           WIFEXITED(status) ? "exited with" : "killed by signal",
                           WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
            }
            m_children.erase(m_children.begin() + static_cast<std::ptrdiff_t>(i));
            continue;
        }
        if (!c.killed && now >= c.deadline) {
            kill(-c.pid, SIGKILL);
            c.killed = true;
        }
        ++i;
    }
    start_pending(now);
}

core::Millis ExecRunner::next_deadline_in(core::Millis now) const {
    core::Millis best = -1;
    for (const auto& c : m_children) {
        const core::Millis in = c.killed ? 10 : std::max<core::Millis>(0, c.deadline - now);
        if (best < 0 || in < best)
            best = in;
    }
    return best;
}

void ExecRunner::finish() {
    while (!m_children.empty() || !m_pending.empty()) {
        reap(monotonic_ms());
        if (!m_children.empty())
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

} // namespace iots::alert
