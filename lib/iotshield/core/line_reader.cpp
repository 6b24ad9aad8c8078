#include "iotshield/core/line_reader.hpp"

#include "iotshield/core/error.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace iots::core {

namespace {
constexpr std::size_t kChunk = 256 * 1024;
}

LineReader::LineReader(int fd, std::size_t max_line) : m_fd(fd), m_max_line(max_line) {
    m_buffer.resize(kChunk + max_line + 1);
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
    bool skipping = false;
    for (;;) {
        const void* nl = std::memchr(m_buffer.data() + scanned, '\n', m_end - scanned);
        if (nl != nullptr) {
            const auto pos =
                static_cast<std::size_t>(static_cast<const char*>(nl) - m_buffer.data());
            ++m_line_number;
            if (skipping) {
                m_begin = pos + 1;
                return Status::too_long;
            }
            std::size_t len = pos - m_begin;
            if (len > m_max_line) {
                m_begin = pos + 1;
                return Status::too_long;
            }
            if (len > 0 && m_buffer[m_begin + len - 1] == '\r')
                --len;
            m_line = std::string_view(m_buffer.data() + m_begin, len);
            m_begin = pos + 1;
            return Status::line;
        }
        if (m_end - m_begin > m_max_line) { // drop what we have, keep skipping to the newline
            skipping = true;
            m_begin = m_end = 0;
        }
        scanned = m_end;
        const std::size_t before = m_begin;
        if (!fill()) {
            if (skipping) {
                ++m_line_number;
                return Status::too_long;
            }
            if (m_end > m_begin) { // last line without '\n'
                ++m_line_number;
                std::size_t len = m_end - m_begin;
                if (m_buffer[m_begin + len - 1] == '\r')
                    --len;
                m_line = std::string_view(m_buffer.data() + m_begin, len);
                m_begin = m_end;
                return Status::line;
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

} // namespace iots::core
