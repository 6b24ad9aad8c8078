#include "iotshield/core/log.hpp"

#include <unistd.h>

#include <cerrno>

namespace iots::core {

namespace {
std::string_view level_name(Level level) {
    switch (level) {
    case Level::error:
        return "error";
    case Level::warning:
        return "warning";
    case Level::info:
        return "info";
    case Level::debug:
        return "debug";
    }
    return "info";
}
} // namespace

Logger::Logger(std::string program, Level threshold)
    : m_program(std::move(program)), m_threshold(threshold) {}

void Logger::write(Level level, std::string_view message) const {
    std::string line = fmt::format("{}: {}: {}\n", m_program, level_name(level), message);
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return; // nowhere left to report a failing stderr
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

} // namespace iots::core
