#pragma once
// The home's own clock: an IANA time zone (daylight saving included) that turns a UTC timestamp
// into local wall time, so that daily and weekly patterns are learnt in the household's hours.
// Cheap per reading: the offset of the current period is cached until its next transition.
//
// The zones come from the system's tz database (/usr/share/zoneinfo, Debian's tzdata) through
// Howard Hinnant's date/tz library, which stays behind zone.cpp. Its files hold the transitions
// up to 2037; later instants keep the last offset.
//
// Hazard: the cache makes offset_s() write to the object although it is const. A Zone is a value
// (cheap to copy); give each thread its own copy instead of sharing one.
#include "iotshield/core/time.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace iots::core {

class Zone {
public:
    Zone() = default; // UTC

    // "Europe/Berlin", "Australia/Sydney", "UTC". Throws Error(Exit::usage) for an unknown name.
    [[nodiscard]] static Zone named(std::string_view iana);
    // $TZ when set and not empty, else UTC. A leading ':' (POSIX "implementation-defined") is
    // dropped, and a path (TZ=:/etc/localtime) names the zone of the tz database file it resolves
    // to; anything else that is not an IANA name is Error(Exit::usage).
    [[nodiscard]] static Zone from_environment();

    [[nodiscard]] const std::string& name() const noexcept { return m_name; }
    // Seconds east of UTC in effect at instant ts.
    [[nodiscard]] std::int32_t offset_s(Millis ts) const noexcept {
        if (ts >= m_begin && ts < m_end)
            return m_offset;
        return lookup(ts);
    }
    // Local wall time at ts, as milliseconds since the local 1970-01-01T00:00.
    [[nodiscard]] Millis local(Millis ts) const noexcept { return ts + 1000LL * offset_s(ts); }

    // Same zone (by name; the cache does not count).
    friend bool operator==(const Zone& a, const Zone& b) noexcept { return a.m_name == b.m_name; }

private:
    // Finds the period [m_begin, m_end) holding ts and caches it with its offset.
    std::int32_t lookup(Millis ts) const noexcept;

    std::string m_name = "UTC";
    const date::time_zone* m_zone = nullptr; // null: UTC; else owned by the library's database
    mutable Millis m_begin = std::numeric_limits<Millis>::min();
    mutable Millis m_end = std::numeric_limits<Millis>::max();
    mutable std::int32_t m_offset = 0;
};

// Local hour 0..23, weekday 0..6 (Monday = 0) and minute of the week of a local() time.
[[nodiscard]] inline int local_hour(Millis local_ms) noexcept {
    const Millis day = 86'400'000;
    const Millis in_day = ((local_ms % day) + day) % day;
    return static_cast<int>(in_day / 3'600'000);
}
[[nodiscard]] inline int local_weekday(Millis local_ms) noexcept {
    const Millis day = 86'400'000;
    const Millis days = local_ms >= 0 ? local_ms / day : (local_ms - day + 1) / day;
    return static_cast<int>(((days + 3) % 7 + 7) % 7); // 1970-01-01 was a Thursday
}
[[nodiscard]] inline int local_minute_of_week(Millis local_ms) noexcept {
    const Millis day = 86'400'000;
    const Millis in_day = ((local_ms % day) + day) % day;
    return local_weekday(local_ms) * 1440 + static_cast<int>(in_day / 60'000);
}

} // namespace iots::core
