#pragma once
// The sensor kinds of DESIGN §2, their units and accepted ranges.
#include <optional>
#include <string_view>

namespace iots::record {

enum class SensorKind { temperature, humidity, gas, flame, motion, light, other };

struct SensorInfo {
    SensorKind kind;
    std::string_view name;
    std::string_view unit;
    double min;
    double max;
    bool binary; // only 0 or 1
};

// Info for a known kind, nullopt for a generic numeric series.
[[nodiscard]] std::optional<SensorInfo> sensor_info(std::string_view name) noexcept;
[[nodiscard]] SensorKind sensor_kind(std::string_view name) noexcept;
[[nodiscard]] std::string_view sensor_name(SensorKind kind) noexcept;
// The six known kinds, in DESIGN order.
[[nodiscard]] const SensorInfo* known_sensors(std::size_t& count) noexcept;

// 1-64 characters of A-Z a-z 0-9 _ . - (device and sensor names).
[[nodiscard]] bool valid_name(std::string_view name) noexcept;

// The incident labels iots-sim writes (and `--incident KIND@OFFSET` takes), plus "normal".
[[nodiscard]] bool valid_label(std::string_view label) noexcept;

} // namespace iots::record
