#pragma once

#include "iotshield/core/error.hpp"

#include <fmt/format.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace iots::core {

// An eventfd that wakes a main loop's poll() from other threads (an MQTT network thread, a
// narrator, the control service's answers and timeouts).
class Waker {
public:
    Waker() : m_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
        if (m_fd < 0)
            throw Error(Exit::failure, fmt::format("eventfd: {}", std::strerror(errno)));
    }
    ~Waker() { ::close(m_fd); }
    Waker(const Waker&) = delete;
    Waker& operator=(const Waker&) = delete;
    void wake() const noexcept {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(m_fd, &one, sizeof one);
    }
    void drain() const noexcept {
        std::uint64_t v = 0;
        [[maybe_unused]] const auto n = ::read(m_fd, &v, sizeof v);
    }
    [[nodiscard]] int fd() const noexcept { return m_fd; }

private:
    int m_fd;
};

} // namespace iots::core
