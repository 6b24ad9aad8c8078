#pragma once
// The signal model: a household (weather, sun, occupancy schedule) and its ESP32 nodes, one reading
// per sensor per interval, with incidents injected and labelled. Pure and deterministic: the same
// Config gives the same readings on any machine; no I/O, no clocks, no globals.
#include "iotshield/record/reading.hpp"
#include "iotshield/sim/config.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace iots::sim {

// The sensors of every node, in the order they are emitted within a step.
inline constexpr std::string_view kSensors[] = {"temperature", "humidity", "gas",
                                                "flame",       "motion",   "light"};
inline constexpr int kSensorCount = 6;

enum class Presence { asleep, home, away };
[[nodiscard]] std::string_view presence_name(Presence p) noexcept;

// An incident as scheduled: device index, sensor index (-1: not a sensor fault), time window.
struct Incident {
    IncidentKind kind = IncidentKind::fire;
    std::size_t device = 0;
    int sensor = -1;
    core::Millis start = 0;
    core::Millis end = 0; // the cause stops here; decaying effects may stay labelled after it
    bool random = false;  // from --incident-rate
};

class Simulator {
public:
    explicit Simulator(const Config& config); // validates; throws Error(usage)
    ~Simulator();
    Simulator(const Simulator&) = delete;
    Simulator& operator=(const Simulator&) = delete;

    // Advances one node by one interval and returns the readings it sent, in time order across
    // calls (0 to 6 of them: a dropout sends none for that sensor). The stream never ends.
    const std::vector<const record::Reading*>& step();

    // An actuator command for a device, applied from the next step: "" when done, else why not.
    // Actuators: fan (on/off: ventilation), valve (open/close: gas supply), buzzer, relay.
    std::string actuate(std::string_view device, std::string_view actuator,
                        std::string_view action);

    [[nodiscard]] const Config& config() const noexcept;
    // The time of the last step (also when it sent nothing).
    [[nodiscard]] core::Millis last_ts() const noexcept;
    // Incidents scheduled so far (explicit ones at once, random ones as time reaches them).
    [[nodiscard]] const std::vector<Incident>& incidents() const noexcept;
    // Where the household is at a time (a pure function of seed and time).
    [[nodiscard]] Presence presence(core::Millis ts) const;

    // The household's presence from `from` to `to`: its value at `from`, then each change, looked
    // at every `step` ms (the ground truth of --occupancy).
    [[nodiscard]] std::vector<std::pair<core::Millis, Presence>>
    presence_changes(core::Millis from, core::Millis to, core::Millis step) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

} // namespace iots::sim
