#include "iotshield/ha/states.hpp"

#include "iotshield/ha/discovery.hpp"

#include <algorithm>

namespace iots::ha {

States::States(double gas_danger_ppm, core::Millis clear_after_ms)
    : m_gas_danger(gas_danger_ppm), m_clear_after(clear_after_ms) {}

bool States::valid_severity(std::string_view severity) noexcept {
    return std::find(kSeverities.begin(), kSeverities.end(), severity) != kSeverities.end();
}

std::optional<StateChange> States::set(std::string_view device, std::string_view state,
                                       std::string value) {
    auto it = m_devices.find(device);
    if (it == m_devices.end())
        it = m_devices.emplace(std::string(device), Device{}).first;
    Device& d = it->second;
    std::string& slot = state == kLeakState      ? d.leak
                        : state == kProblemState ? d.problem
                                                 : d.severity;
    if (slot == value)
        return std::nullopt;
    slot = value;
    return StateChange{std::string(device), state, std::move(value)};
}

void States::restore(std::string_view device, std::string_view state, std::string_view value,
                     core::Millis now) {
    if (state == kLeakState && (value == "ON" || value == "OFF"))
        (void)set(device, kLeakState, std::string(value));
    else if (state == kProblemState && (value == "ON" || value == "OFF")) {
        (void)set(device, kProblemState, std::string(value));
        m_devices.find(device)->second.last_anomaly = now;
    } else if (state == kSeverityState && valid_severity(value))
        (void)set(device, kSeverityState, std::string(value));
}

std::vector<StateChange> States::first_seen(std::string_view device) {
    std::vector<StateChange> out;
    auto it = m_devices.find(device);
    if (it == m_devices.end() || it->second.problem.empty())
        if (auto c = set(device, kProblemState, "OFF"))
            out.push_back(std::move(*c));
    it = m_devices.find(device);
    if (it->second.severity.empty())
        if (auto c = set(device, kSeverityState, "none"))
            out.push_back(std::move(*c));
    return out;
}

std::optional<StateChange> States::gas(std::string_view device, double ppm) {
    return set(device, kLeakState, ppm >= m_gas_danger ? "ON" : "OFF");
}

std::optional<StateChange> States::anomaly(std::string_view device, core::Millis now) {
    auto c = set(device, kProblemState, "ON");
    m_devices.find(device)->second.last_anomaly = now;
    return c;
}

std::optional<StateChange> States::alert(std::string_view device, std::string_view severity,
                                         std::string_view event) {
    if (event == "resolve")
        return set(device, kSeverityState, "none");
    if (!valid_severity(severity) || severity == "none")
        return std::nullopt;
    return set(device, kSeverityState, std::string(severity));
}

std::vector<StateChange> States::expire(core::Millis now) {
    std::vector<StateChange> out;
    for (auto& [name, d] : m_devices)
        if (d.problem == "ON" && now - d.last_anomaly >= m_clear_after) {
            d.problem = "OFF";
            out.push_back({name, kProblemState, "OFF"});
        }
    return out;
}

} // namespace iots::ha
