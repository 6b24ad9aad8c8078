#include "iotshield/record/sensor.hpp"

#include <array>

namespace iots::record {

namespace {
constexpr std::array<SensorInfo, 6> kSensors{{
    {SensorKind::temperature, "temperature", "C", -40.0, 125.0, false},
    {SensorKind::humidity, "humidity", "%", 0.0, 100.0, false},
    {SensorKind::gas, "gas", "ppm", 0.0, 10000.0, false},
    {SensorKind::flame, "flame", "0/1", 0.0, 1.0, true},
    {SensorKind::motion, "motion", "0/1", 0.0, 1.0, true},
    {SensorKind::light, "light", "lux", 0.0, 100000.0, false},
}};

constexpr std::array<std::string_view, 8> kLabels{"normal",       "fire",          "gas-leak",
                                                  "intrusion",    "hvac-failure",  "sensor-stuck",
                                                  "sensor-spike", "sensor-dropout"};
} // namespace

std::optional<SensorInfo> sensor_info(std::string_view name) noexcept {
    for (const auto& s : kSensors)
        if (s.name == name)
            return s;
    return std::nullopt;
}

SensorKind sensor_kind(std::string_view name) noexcept {
    const auto info = sensor_info(name);
    return info ? info->kind : SensorKind::other;
}

std::string_view sensor_name(SensorKind kind) noexcept {
    for (const auto& s : kSensors)
        if (s.kind == kind)
            return s.name;
    return "other";
}

const SensorInfo* known_sensors(std::size_t& count) noexcept {
    count = kSensors.size();
    return kSensors.data();
}

bool valid_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 64)
        return false;
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

bool valid_label(std::string_view label) noexcept {
    for (const auto l : kLabels)
        if (l == label)
            return true;
    return false;
}

} // namespace iots::record
