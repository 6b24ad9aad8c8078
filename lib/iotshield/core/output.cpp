#include "iotshield/core/output.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/signals.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace iots::core {

namespace {
constexpr std::size_t kBatchBytes = 64 * 1024;
// A reader that takes nothing for this long after a stop was asked has stopped reading.
constexpr int kStalledMs = 200;
} // namespace

LineWriter::LineWriter(int fd, bool flush_each_line)
    : m_fd(fd), m_flush_each_line(flush_each_line),
      m_buffer(std::make_unique_for_overwrite<char[]>(kBatchBytes + 4096)),
      m_capacity(kBatchBytes + 4096) {}

LineWriter::~LineWriter() {
    try {
        flush();
    } catch (...) { // NOLINT(bugprone-empty-catch): the tool's own flush at exit reports errors
    }
}

char* LineWriter::reserve(std::size_t bytes) {
    if (m_capacity - m_size < bytes) {
        const std::size_t capacity = std::max(m_capacity * 2, m_size + bytes);
        auto grown = std::make_unique_for_overwrite<char[]>(capacity);
        std::memcpy(grown.get(), m_buffer.get(), m_size);
        m_buffer = std::move(grown);
        m_capacity = capacity;
    }
    return m_buffer.get() + m_size;
}

void LineWriter::finish_line() {
    ++m_lines;
    if (m_flush_each_line || m_size >= kBatchBytes)
        flush();
}

void LineWriter::write_line(std::string_view line) {
    char* at = reserve(line.size() + 1);
    std::memcpy(at, line.data(), line.size());
    at[line.size()] = '\n';
    m_size += line.size() + 1;
    finish_line();
}

void LineWriter::write_lines(std::string_view text) {
    if (m_size == 0 && (m_flush_each_line || text.size() >= kBatchBytes)) {
        ++m_lines;
        write_out(text.data(), text.size());
        return;
    }
    char* at = reserve(text.size());
    std::memcpy(at, text.data(), text.size());
    m_size += text.size();
    finish_line();
}

void LineWriter::flush() {
    const std::size_t size = m_size;
    m_size = 0; // written, or dropped on an error or a stall
    write_out(m_buffer.get(), size);
}

void LineWriter::write_out(const char* data, std::size_t size) {
    std::size_t done = 0;
    // A signal interrupted the write. Told to, or stopping (SIGINT, SIGTERM) with a reader that
    // takes nothing more: drop the rest rather than wait for ever. A reader that reads, however
    // slowly, is waited for.
    const auto give_up = [this] {
        bool stalled = m_give_up != nullptr && m_give_up->load();
        if (!stalled && stop_requested()) {
            pollfd p{m_fd, POLLOUT, 0};
            stalled = ::poll(&p, 1, kStalledMs) == 0;
        }
        if (!stalled)
            return;
        throw OutputStalled();
    };
    while (done < size) {
        const ssize_t n = ::write(m_fd, data + done, size - done);
        if (n < 0) {
            if (errno == EINTR) {
                give_up();
                continue;
            }
            const int err = errno;
            if (err == EPIPE)
                throw OutputClosed();
            throw Error(Exit::io_error,
                        std::string("write to standard output failed: ") + std::strerror(err));
        }
        done += static_cast<std::size_t>(n);
        if (done < size) // a pipe writes in part only when a signal came
            give_up();
    }
}

} // namespace iots::core
