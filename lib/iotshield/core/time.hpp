#pragma once
// Timestamps are epoch milliseconds (UTC) inside the tools and RFC 3339 with a Z on the wire.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iots::core {

using Millis = std::int64_t;

// "2025-10-25T16:45:12.123Z": always UTC, always three fraction digits. Writes 24 chars into out.
// Meant for the years 0000-9999; outside them only the year field is clamped (no overflow for any
// input), so validate the range first when it matters (record::validate does).
void format_rfc3339(Millis ms, char out[24]) noexcept;
[[nodiscard]] std::string format_rfc3339(Millis ms);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)", 't'/' ' as separator, 'z' too. Fractions past
// milliseconds are truncated. Returns nullopt for anything else, including impossible dates.
[[nodiscard]] std::optional<Millis> parse_rfc3339(std::string_view text) noexcept;

// Wall clock now, in epoch milliseconds.
[[nodiscard]] Millis now_millis() noexcept;

// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's days_from_civil).
[[nodiscard]] std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept;

} // namespace iots::core
