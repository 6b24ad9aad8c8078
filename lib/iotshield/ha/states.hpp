#pragma once
// The states iots-ha derives for Home Assistant (pure, no I/O): a gas leak from the gas readings,
// the detector's anomaly from its anomaly messages, the latest alert's severity from the alerts.
// Each call returns the state to publish (retained) when it changed, else nothing.
#include "iotshield/core/time.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iots::ha {

struct StateChange {
    std::string device;
    std::string_view state; // kLeakState, kProblemState or kSeverityState
    std::string value;      // ON/OFF, or one of kSeverities
};

class States {
public:
    // gas_danger_ppm: a gas reading at or above it is a leak (record/safety.hpp's level unless
    // told); clear_after_ms: the anomaly turns OFF this long after the device's last one.
    States(double gas_danger_ppm, core::Millis clear_after_ms);

    // A state read back from the broker (retained, from an earlier run): kept, so that the first
    // reading does not publish it again; an anomaly found ON clears after clear_after from now.
    void restore(std::string_view device, std::string_view state, std::string_view value,
                 core::Millis now);
    // What a device that has just appeared starts with when nothing was restored: no anomaly,
    // severity none (its leak waits for a gas reading).
    [[nodiscard]] std::vector<StateChange> first_seen(std::string_view device);
    [[nodiscard]] std::optional<StateChange> gas(std::string_view device, double ppm);
    [[nodiscard]] std::optional<StateChange> anomaly(std::string_view device, core::Millis now);
    // The alert's severity, or none when its event resolves the incident. An unknown severity
    // returns nothing (the caller rejects the alert).
    [[nodiscard]] std::optional<StateChange>
    alert(std::string_view device, std::string_view severity, std::string_view event);
    // Anomalies that have been quiet for clear_after by `now`: OFF.
    [[nodiscard]] std::vector<StateChange> expire(core::Millis now);

    [[nodiscard]] static bool valid_severity(std::string_view severity) noexcept;

private:
    struct Device {
        std::string leak, problem, severity; // empty: not published yet
        core::Millis last_anomaly = 0;
    };
    std::optional<StateChange> set(std::string_view device, std::string_view state,
                                   std::string value);

    double m_gas_danger;
    core::Millis m_clear_after;
    std::map<std::string, Device, std::less<>> m_devices;
};

} // namespace iots::ha
