#pragma once
// Reads lines from a file descriptor with read(2), so that SIGINT/SIGTERM interrupt a blocking read
// (EINTR) and a line longer than the limit is skipped and reported instead of filling memory.
#include <cstdint>
#include <string>
#include <string_view>

namespace iots::core {

class LineReader {
public:
    enum class Status { line, too_long, end, interrupted };

    explicit LineReader(int fd = 0, std::size_t max_line = 1024 * 1024);

    // On Status::line, line() holds the line without its '\n' (and without a trailing '\r'); it
    // stays valid until the next call. A line of more than max_line bytes (not counting the "\r\n")
    // gives Status::too_long once, discarded up to its end, and the next line is read normally.
    // Status::interrupted: a signal arrived while waiting; the caller checks its stop flag and
    // calls again.
    Status next();
    [[nodiscard]] std::string_view line() const noexcept { return m_line; }
    [[nodiscard]] std::uint64_t line_number() const noexcept { return m_line_number; }
    // Bytes left buffered after the current line (a reader can tell whether more input is ready).
    [[nodiscard]] bool buffered() const noexcept { return m_begin < m_end; }
    // Reads what is ready without waiting; true when next() will not wait. False: the input
    // paused (a part of a line may be buffered), the moment to commit, flush and release locks.
    // Throws like next() on a read error.
    [[nodiscard]] bool ready();

private:
    bool fill(); // false at end of input; throws Error(io_error) on a read error
    Status take_line(std::size_t begin, std::size_t end); // [begin, end) without '\n'
    int m_fd;
    std::size_t m_max_line;
    std::string m_buffer;
    std::size_t m_begin = 0;
    std::size_t m_end = 0;
    std::string_view m_line;
    std::uint64_t m_line_number = 0;
    bool m_eof = false;
    bool m_interrupted = false;
    bool m_skipping = false; // inside a too-long line; kept across Status::interrupted
};

} // namespace iots::core
