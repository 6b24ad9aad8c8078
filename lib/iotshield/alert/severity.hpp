#pragma once
// Severity of an anomalous reading and of an incident (the table is in man/iots-alert.1, SEVERITY).
// Pure functions on plain data: no I/O, no globals.
#include "iotshield/core/time.hpp"
#include "iotshield/record/reading.hpp"
#include "iotshield/record/safety.hpp"

#include <optional>
#include <string_view>

namespace iots::alert {

enum class Severity { low = 0, medium = 1, high = 2, critical = 3 };

[[nodiscard]] std::string_view severity_name(Severity s) noexcept; // "LOW" ... "CRITICAL"
[[nodiscard]] std::optional<Severity> parse_severity(std::string_view text) noexcept;

struct SeverityPolicy {
    double gas_danger_ppm =
        record::kGasDangerPpm; // the detector's alarm levels (record/safety.hpp)
    double heat_danger_c = record::kHeatDangerC;
    double score_high = 0.9;                         // score at or above: HIGH
    double score_medium = 0.75;                      // score at or above: MEDIUM (below: LOW)
    core::Millis escalate_after_ms = 10 * 60 * 1000; // a longer incident rises one level (to HIGH)
};

// A life-safety hazard on true values: flame seen, gas at or above the danger level, heat at or
// above the heat-detector level. Always CRITICAL, whatever the score or the other reasons say.
[[nodiscard]] bool is_hazard(const record::Reading& r, const SeverityPolicy& p) noexcept;

// Only data-quality reasons (stuck, spike, gap): the sensor, not the home, looks wrong.
[[nodiscard]] bool is_sensor_fault(const record::Reading& r) noexcept;

// Severity of one anomalous reading, from the table.
[[nodiscard]] Severity reading_severity(const record::Reading& r, const SeverityPolicy& p) noexcept;

// Incident severity: the highest of its readings, raised one level (never past HIGH) when it lasted
// escalate_after_ms or longer, and one level when two or more sensors of the device are anomalous.
[[nodiscard]] Severity incident_severity(Severity peak_reading, core::Millis duration_ms,
                                         std::size_t anomalous_sensors,
                                         const SeverityPolicy& p) noexcept;

} // namespace iots::alert
