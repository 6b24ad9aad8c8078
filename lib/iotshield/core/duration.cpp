#include "iotshield/core/duration.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace iots::core {

std::optional<std::int64_t> parse_duration(std::string_view text) noexcept {
    if (text.empty())
        return std::nullopt;
    double number = 0;
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(begin, end, number);
    if (ec != std::errc{} || ptr == begin || !std::isfinite(number) || number < 0)
        return std::nullopt;
    const std::string_view suffix(ptr, static_cast<std::size_t>(end - ptr));
    double scale = 0;
    if (suffix.empty() || suffix == "s")
        scale = 1000;
    else if (suffix == "ms")
        scale = 1;
    else if (suffix == "m" || suffix == "min")
        scale = 60e3;
    else if (suffix == "h")
        scale = 3600e3;
    else if (suffix == "d")
        scale = 86400e3;
    else if (suffix == "w")
        scale = 7 * 86400e3;
    else
        return std::nullopt;
    const double ms = number * scale;
    if (ms > static_cast<double>(std::numeric_limits<std::int64_t>::max() / 2))
        return std::nullopt;
    return static_cast<std::int64_t>(std::llround(ms));
}

std::string format_duration(std::int64_t ms) {
    struct Unit {
        std::int64_t ms;
        const char* suffix;
    };
    static constexpr Unit kUnits[] = {
        {7 * 86400000LL, "w"}, {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    if (ms > 0)
        for (const auto& u : kUnits)
            if (ms % u.ms == 0)
                return std::to_string(ms / u.ms) + u.suffix;
    return std::to_string(ms) + "ms";
}

} // namespace iots::core
