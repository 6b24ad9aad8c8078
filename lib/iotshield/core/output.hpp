#pragma once
// stdout for data: one record a line, flushed per record unless batching (STYLE, Pipelines 1 and
// 3). EPIPE throws OutputClosed (the tool ends quietly, exit 0); any other failed write throws
// Error(io_error). A write blocked on a reader that stopped reading, interrupted by SIGINT or
// SIGTERM, throws OutputStalled once the reader has taken nothing for 200 ms.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace iots::core {

class LineWriter {
public:
    explicit LineWriter(int fd = 1, bool flush_each_line = true);
    LineWriter(const LineWriter&) = delete;
    LineWriter& operator=(const LineWriter&) = delete;
    ~LineWriter();

    // Appends line and '\n'; flushes now unless batching (then at 64 KiB or flush()).
    void write_line(std::string_view line);
    // The same for a line that write(char* at) writes in place, at most max_bytes, returning its
    // end (no intermediate copy of the text).
    template <typename Write> void write_line_in_place(std::size_t max_bytes, Write&& write) {
        char* at = reserve(max_bytes + 1);
        char* end = write(at);
        *end++ = '\n';
        m_size += static_cast<std::size_t>(end - at);
        finish_line();
    }
    // Whole lines, each ending in '\n' (counted as one line), flushed as write_line flushes: text
    // that is flushed at once is written from where it is, not copied into the buffer first.
    void write_lines(std::string_view text);
    void flush();
    void set_flush_each_line(bool on) noexcept { m_flush_each_line = on; }
    // A write interrupted by a signal (EINTR, or cut short) while *flag is true drops what is
    // left and throws OutputStalled, instead of waiting on for a reader that stopped reading.
    void give_up_when(const std::atomic<bool>* flag) noexcept { m_give_up = flag; }
    [[nodiscard]] std::uint64_t lines() const noexcept { return m_lines; }

private:
    char* reserve(std::size_t bytes); // room for bytes more at the end of the buffer
    void finish_line();
    // Writes size bytes at data to m_fd; throws as flush() does.
    void write_out(const char* data, std::size_t size);
    int m_fd;
    bool m_flush_each_line;
    std::unique_ptr<char[]> m_buffer; // not a std::string: growing it must not zero-fill
    std::size_t m_size = 0;
    std::size_t m_capacity = 0;
    std::uint64_t m_lines = 0;
    const std::atomic<bool>* m_give_up = nullptr;
};

} // namespace iots::core
