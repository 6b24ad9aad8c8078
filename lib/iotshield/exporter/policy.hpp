#pragma once
// The privacy policy file of iots-export (iots-export(1), POLICY FILE): what may leave the home,
// at what cost, within what budget. JSON, validated on load: every missing, unknown or wrong key
// is named ("policy.json: sensors.temperature.range: missing"), Error(config) -> exit 78.
#include "iotshield/core/time.hpp"
#include "iotshield/privacy/budget.hpp"
#include "iotshield/privacy/mechanism.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace iots::exporter {

enum class Release {
    mean,  // the clamped mean of the window (and min and max when min_max), Laplace or Gaussian
    count, // the readings of the window that are not 0 (events), clamped to max_count, Laplace
    any,   // whether the window had an event, by randomized response
};

struct SensorPolicy {
    std::string sensor;
    Release release = Release::mean;
    privacy::Mech mech = privacy::Mech::laplace;
    double epsilon = 0;         // per value released
    double delta = 0;           // Gaussian only
    privacy::Range range{};     // mean: the clamp
    bool min_max = false;       // mean: also the clamped min and max, each at epsilon (and delta)
    std::int64_t max_count = 0; // count: the clamp, and the count's sensitivity

    // What one window of one device costs: epsilon per value released (mean, min, max, count
    // or any), basic composition.
    [[nodiscard]] privacy::Cost cost_per_window() const;
};

struct Policy {
    core::Millis window_ms = 3600000; // divides a day, so each window lies in one UTC day
    privacy::Budget budget;           // per destination and UTC day of the data
    std::vector<SensorPolicy> sensors;
    std::vector<std::string> devices; // empty: every device in the database

    [[nodiscard]] const SensorPolicy* find(std::string_view sensor) const;
};

// where: the file's name, for messages.
[[nodiscard]] Policy parse_policy(std::string_view text, const std::string& where);
// Error(no_input) when the file cannot be read, else as parse_policy.
[[nodiscard]] Policy load_policy(const std::string& path);

} // namespace iots::exporter
