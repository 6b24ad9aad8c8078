#pragma once
// The rules narrator: the offline text every alert carries the moment it is raised
// (man/iots-alert.1, NARRATORS). Pure: the same event always gives the same words.
#include "iotshield/alert/alert.hpp"
#include "iotshield/alert/incident.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace iots::alert {

// The range a reading of a known kind usually stays in at home (not the sensor's physical range).
struct NormalRange {
    double low;
    double high;
};
[[nodiscard]] std::optional<NormalRange> normal_range(std::string_view sensor) noexcept;

enum class Pattern {
    fire,
    gas_danger,
    gas,
    heat_danger,
    heat,
    cold,
    humid,
    dry,
    intrusion,
    light,
    sensor_fault,
    anomaly
};
[[nodiscard]] std::string_view pattern_name(Pattern p) noexcept; // "fire", "gas-leak", ...
[[nodiscard]] Pattern classify(const Incident& inc, std::string_view trigger_sensor,
                               const SeverityPolicy& policy) noexcept;

// "68.2 °C", "1450 ppm", "1": a value as a person reads it.
[[nodiscard]] std::string format_value(std::string_view sensor, double value);
// "16 to 28 °C", "0": the normal range in the same words; empty for an unknown kind.
[[nodiscard]] std::string format_range(std::string_view sensor);

[[nodiscard]] Text narrate(const Event& e, const SeverityPolicy& policy, core::Millis quiet_ms);

} // namespace iots::alert
