#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace iots::core {

// "500ms", "5s", "30m", "2h", "14d", "1w"; a bare number is seconds. Returns milliseconds, or
// nullopt for anything else (negative, empty, unknown suffix, overflow).
[[nodiscard]] std::optional<std::int64_t> parse_duration(std::string_view text) noexcept;

} // namespace iots::core
