#pragma once
// stdout for data: one record a line, flushed per record unless batching (STYLE, Pipelines 1 and
// 3). EPIPE throws OutputClosed (the tool ends quietly, exit 0); any other failed write throws
// Error(io_error).
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
    void flush();
    void set_flush_each_line(bool on) noexcept { m_flush_each_line = on; }
    [[nodiscard]] std::uint64_t lines() const noexcept { return m_lines; }

private:
    int m_fd;
    bool m_flush_each_line;
    std::string m_buffer;
    std::uint64_t m_lines = 0;
};

} // namespace iots::core
