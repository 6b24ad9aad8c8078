#pragma once
// Diagnostics on stderr, one line each: "iots-ingest: warning: line 17: value: not a finite
// number".
#include <fmt/format.h>

#include <string>
#include <string_view>

namespace iots::core {

enum class Level { error = 0, warning = 1, info = 2, debug = 3 };

class Logger {
public:
    explicit Logger(std::string program, Level threshold = Level::info);

    [[nodiscard]] const std::string& program() const noexcept { return m_program; }
    void set_threshold(Level level) noexcept { m_threshold = level; }
    [[nodiscard]] bool enabled(Level level) const noexcept { return level <= m_threshold; }

    // Writes the whole line with one write(2), so lines from concurrent tools do not interleave.
    void write(Level level, std::string_view message) const;

    template <typename... Args> void error(fmt::format_string<Args...> f, Args&&... args) const {
        write(Level::error, fmt::format(f, std::forward<Args>(args)...));
    }
    template <typename... Args> void warn(fmt::format_string<Args...> f, Args&&... args) const {
        if (enabled(Level::warning))
            write(Level::warning, fmt::format(f, std::forward<Args>(args)...));
    }
    template <typename... Args> void info(fmt::format_string<Args...> f, Args&&... args) const {
        if (enabled(Level::info))
            write(Level::info, fmt::format(f, std::forward<Args>(args)...));
    }
    template <typename... Args> void debug(fmt::format_string<Args...> f, Args&&... args) const {
        if (enabled(Level::debug))
            write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
    }

private:
    std::string m_program;
    Level m_threshold;
};

} // namespace iots::core
