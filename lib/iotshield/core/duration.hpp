#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iots::core {

// "500ms", "5s", "30m", "2h", "14d", "1w"; a bare number is seconds. Returns milliseconds, or
// nullopt for anything else (negative, empty, unknown suffix, overflow).
[[nodiscard]] std::optional<std::int64_t> parse_duration(std::string_view text) noexcept;

// The same notation back, in the largest unit that divides ms exactly: "1d", "90m", "1500ms".
// parse_duration(format_duration(ms)) == ms for any ms >= 0.
[[nodiscard]] std::string format_duration(std::int64_t ms);

} // namespace iots::core
