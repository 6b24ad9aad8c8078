#include "iotshield/core/output.hpp"

#include "iotshield/core/error.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace iots::core {

namespace {
constexpr std::size_t kBatchBytes = 64 * 1024;
}

LineWriter::LineWriter(int fd, bool flush_each_line)
    : m_fd(fd), m_flush_each_line(flush_each_line) {
    m_buffer.reserve(kBatchBytes + 4096);
}

LineWriter::~LineWriter() {
    try {
        flush();
    } catch (...) { // NOLINT(bugprone-empty-catch): the tool's own flush at exit reports errors
    }
}

void LineWriter::write_line(std::string_view line) {
    m_buffer.append(line);
    m_buffer.push_back('\n');
    ++m_lines;
    if (m_flush_each_line || m_buffer.size() >= kBatchBytes)
        flush();
}

void LineWriter::flush() {
    std::size_t done = 0;
    while (done < m_buffer.size()) {
        const ssize_t n = ::write(m_fd, m_buffer.data() + done, m_buffer.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            const int err = errno;
            m_buffer.clear();
            if (err == EPIPE)
                throw OutputClosed();
            throw Error(Exit::io_error,
                        std::string("write to standard output failed: ") + std::strerror(err));
        }
        done += static_cast<std::size_t>(n);
    }
    m_buffer.clear();
}

} // namespace iots::core
