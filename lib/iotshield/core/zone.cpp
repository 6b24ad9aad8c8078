#include "iotshield/core/zone.hpp"

#include "iotshield/core/error.hpp"

#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace iots::core {

namespace {
constexpr Millis kMaxSeconds = std::numeric_limits<Millis>::max() / 1000;
constexpr Millis kMinSeconds = std::numeric_limits<Millis>::min() / 1000;
constexpr std::string_view kZoneinfo = "/zoneinfo/";

Millis to_millis(date::sys_seconds t) noexcept {
    const Millis s = t.time_since_epoch().count();
    return std::clamp(s, kMinSeconds, kMaxSeconds) * 1000;
}
} // namespace

Zone Zone::named(std::string_view iana) {
    if (iana == "UTC")
        return Zone{};
    Zone z;
    try {
        z.m_zone = date::locate_zone(iana);
    } catch (const std::exception&) {
        // The library says "X not found in timezone database"; ours names the option's values.
        throw Error(Exit::usage, "unknown time zone: " + std::string(iana) +
                                     " (an IANA name such as Europe/Berlin, see "
                                     "/usr/share/zoneinfo)");
    }
    z.m_name = std::string(iana);
    // An empty period: the first reading looks its period up.
    z.m_begin = 0;
    z.m_end = 0;
    return z;
}

Zone Zone::from_environment() {
    const char* tz = std::getenv("TZ");
    if (tz == nullptr || *tz == '\0')
        return Zone{};
    std::string_view name(tz);
    if (name.front() == ':')
        name.remove_prefix(1);
    std::string resolved;
    if (!name.empty() && name.front() == '/') { // TZ=:/etc/localtime: the zone that file is
        std::error_code ec;
        resolved = std::filesystem::canonical(std::filesystem::path(name), ec).string();
        const auto at = resolved.find(kZoneinfo);
        if (ec || at == std::string::npos)
            throw Error(Exit::usage, "TZ: " + std::string(name) +
                                         " is not a file of the tz database (" +
                                         std::string(kZoneinfo) + ")");
        resolved.erase(0, at + kZoneinfo.size());
        name = resolved;
    }
    try {
        return named(name);
    } catch (const Error& e) {
        throw Error(Exit::usage, std::string("TZ: ") + e.what());
    }
}

std::int32_t Zone::lookup(Millis ts) const noexcept {
    if (m_zone == nullptr)
        return 0;
    try {
        const auto at = date::floor<std::chrono::seconds>(
            date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ts)));
        const date::sys_info info = m_zone->get_info(at);
        m_begin = to_millis(info.begin);
        m_end = to_millis(info.end);
        m_offset = static_cast<std::int32_t>(info.offset.count());
        if (!(ts >= m_begin && ts < m_end)) // clamped at the far ends: nothing cached
            m_begin = m_end = 0;
    } catch (const std::exception&) {
        // Not expected for a located zone; keep the last offset rather than fail a reading.
        m_begin = m_end = 0;
    }
    return m_offset;
}

} // namespace iots::core
