#pragma once
// The danger levels every tool shares: iots-detect raises its safety alarm at them and iots-alert
// calls a reading at or past them a danger (CRITICAL). One definition, so that the alarm and the
// alert's words never disagree.
#include "iotshield/record/sensor.hpp"

#include <array>

namespace iots::record {

// MQ-2 class sensor, ppm. EN 50194-1 (domestic gas alarms) wants an alarm between 3 % and 10 % of
// the lower explosive limit; 1,500 ppm is 7 % of LPG's LEL (2.1 % vol) and 3.4 % of methane's
// (4.4 % vol), inside that window for both gases the MQ-2 is sold for.
inline constexpr double kGasDangerPpm = 1500.0;
// Fixed-temperature heat detector, deg C. UL 521 "ordinary" rating starts at 57 C (135 F), which
// is also inside EN 54-5 class A1's static response range (54-65 C).
inline constexpr double kHeatDangerC = 57.0;

// The kinds with a safety threshold, which flags from the first reading: flame, gas
// (kGasDangerPpm), temperature (kHeatDangerC, rate of rise). iots-detect gives them their own lane.
inline constexpr std::array<SensorKind, 3> kSafetyKinds{SensorKind::flame, SensorKind::gas,
                                                        SensorKind::temperature};
[[nodiscard]] constexpr bool has_safety_threshold(SensorKind kind) noexcept {
    return kind == SensorKind::flame || kind == SensorKind::gas || kind == SensorKind::temperature;
}

} // namespace iots::record
