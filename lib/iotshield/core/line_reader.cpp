#include "iotshield/core/line_reader.hpp"

#include "iotshield/core/error.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace iots::core {

namespace {
constexpr std::size_t kChunk = 256 * 1024;
}

LineReader::LineReader(int fd, std::size_t max_line) : m_fd(fd), m_max_line(max_line) {
    // A partial line never exceeds max_line + 1 bytes (see next()), so kChunk always fits after it.
    m_buffer.resize(kChunk + max_line + 2);
}

bool LineReader::fill() {
    if (m_eof)
        return false;
    if (m_begin > 0) { // keep the partial line at the front
        std::memmove(m_buffer.data(), m_buffer.data() + m_begin, m_end - m_begin);
        m_end -= m_begin;
        m_begin = 0;
    }
    if (m_end == m_buffer.size())
        m_buffer.resize(m_buffer.size() * 2);
    for (;;) {
        const ssize_t n = ::read(m_fd, m_buffer.data() + m_end, m_buffer.size() - m_end);
        if (n > 0) {
            m_end += static_cast<std::size_t>(n);
            return true;
        }
        if (n == 0) {
            m_eof = true;
            return false;
        }
        if (errno == EINTR) {
            m_interrupted = true;
            return true;
        }
        throw Error(Exit::io_error, std::string("read from input failed: ") + std::strerror(errno));
    }
}

LineReader::Status LineReader::next() {
    std::size_t scanned = m_begin;
    for (;;) {
        const void* nl = std::memchr(m_buffer.data() + scanned, '\n', m_end - scanned);
        if (nl != nullptr) {
            const auto pos =
                static_cast<std::size_t>(static_cast<const char*>(nl) - m_buffer.data());
            ++m_line_number;
            const std::size_t begin = m_begin;
            m_begin = pos + 1;
            if (m_skipping) { // the end of a line whose start was already dropped
                m_skipping = false;
                return Status::too_long;
            }
            return take_line(begin, pos);
        }
        // No newline yet. One byte more than the limit may still be the '\r' of a CRLF.
        if (m_end - m_begin > m_max_line + 1) { // drop what we have, keep skipping to the newline
            m_skipping = true;
            m_begin = m_end = 0;
        }
        scanned = m_end;
        const std::size_t before = m_begin;
        if (!fill()) {
            if (m_skipping) {
                m_skipping = false;
                m_begin = m_end = 0;
                ++m_line_number;
                return Status::too_long;
            }
            if (m_end > m_begin) { // last line without '\n'
                ++m_line_number;
                const std::size_t begin = m_begin;
                m_begin = m_end;
                return take_line(begin, m_end);
            }
            return Status::end;
        }
        scanned -= before; // fill() moved the partial line to the front
        if (m_interrupted) {
            m_interrupted = false;
            return Status::interrupted;
        }
    }
}

bool LineReader::ready() {
    for (;;) {
        if (m_eof || std::memchr(m_buffer.data() + m_begin, '\n', m_end - m_begin) != nullptr)
            return true;
        if (m_interrupted || m_end - m_begin > m_max_line + 1) // next() takes it from here
            return false;
        pollfd p{m_fd, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) // nothing ready (or a signal: take it as a wait)
            return false;
        if (!fill())
            return true; // the end of input
    }
}

LineReader::Status LineReader::take_line(std::size_t begin, std::size_t end) {
    std::size_t len = end - begin;
    if (len > 0 && m_buffer[begin + len - 1] == '\r')
        --len;
    if (len > m_max_line)
        return Status::too_long;
    m_line = std::string_view(m_buffer.data() + begin, len);
    return Status::line;
}

} // namespace iots::core
