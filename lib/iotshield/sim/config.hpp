#pragma once
// What to simulate: devices, time, seed and incidents, as plain data, plus the parsers for the
// command-line spellings (`fire@2h:10m/esp32-kitchen`, `3/d`, `kitchen,office`). Parsers throw
// iots::Error(Exit::usage) with a message that names the option and the bad part.
#include "iotshield/core/time.hpp"
#include "iotshield/core/zone.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iots::sim {

enum class IncidentKind {
    fire,
    gas_leak,
    intrusion,
    hvac_failure,
    sensor_stuck,
    sensor_spike,
    sensor_dropout
};
inline constexpr int kIncidentKinds = 7;

// The DESIGN §2 label of a kind ("gas-leak"), and back.
[[nodiscard]] std::string_view incident_name(IncidentKind kind) noexcept;
[[nodiscard]] std::optional<IncidentKind> parse_incident_kind(std::string_view name) noexcept;
[[nodiscard]] bool is_sensor_fault(IncidentKind kind) noexcept;

// KIND@OFFSET[:DURATION][/DEVICE[/SENSOR]]
struct IncidentSpec {
    IncidentKind kind = IncidentKind::fire;
    core::Millis offset = 0;              // after --start
    std::optional<core::Millis> duration; // default per kind
    std::string device;                   // empty: one chosen at random (seeded)
    std::string sensor;                   // sensor faults only; empty: chosen at random
};

struct DeviceSpec {
    std::string name;
    std::string room;
};

struct Config {
    core::Millis start = 0;
    core::Millis interval = 5000;
    std::uint64_t seed = 1;
    std::vector<DeviceSpec> devices;
    std::vector<IncidentSpec> incidents;
    double incidents_per_day = 0; // random incidents, all devices together
    bool labels = true;
    // The household's clock: its routine follows the wall time of `zone` (daylight saving
    // included) shifted by utc_offset_hours (iots-sim sets one or the other); the sun and the
    // outdoor temperature follow the zone's standard time.
    core::Zone zone;
    double utc_offset_hours = 0;
};

// The default start of a simulated (not real-time) run: fixed, so that output is reproducible.
inline constexpr core::Millis kDefaultStart = 1759708800000; // 2025-10-06T00:00:00Z, a Monday

// livingroom, kitchen, bedroom, hallway, office, garage, bathroom, diningroom, ...
[[nodiscard]] const std::vector<std::string>& default_rooms();

// Devices from --devices, --device-names and --rooms (any may be absent: count 0 / empty lists).
// Names default to esp32-<room>; rooms beyond the list repeat with a number (livingroom2).
[[nodiscard]] std::vector<DeviceSpec> make_devices(int count, const std::vector<std::string>& names,
                                                   const std::vector<std::string>& rooms);

[[nodiscard]] IncidentSpec parse_incident(std::string_view text);
// "3/d", "0.5/h", "2/w" -> incidents per day.
[[nodiscard]] double parse_rate(std::string_view text);

// Throws Error(usage) when the configuration cannot be simulated (bad names, unknown devices).
void validate(const Config& config);

} // namespace iots::sim
