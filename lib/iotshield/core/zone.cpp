#include "iotshield/core/zone.hpp"

#include "iotshield/core/error.hpp"

#include <cstdlib>

namespace iots::core {

// UTC only for now; named zones come with the tz database.
Zone Zone::named(std::string_view iana) {
    if (iana == "UTC" || iana == "Etc/UTC")
        return Zone{};
    throw Error(Exit::usage, "unknown time zone: " + std::string(iana));
}

Zone Zone::from_environment() {
    const char* tz = std::getenv("TZ");
    if (tz == nullptr || *tz == '\0')
        return Zone{};
    return named(tz);
}

std::int32_t Zone::offset_s(Millis /*ts*/) const noexcept {
    return 0;
}

} // namespace iots::core
