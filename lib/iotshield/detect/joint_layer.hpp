#pragma once
// The joint layer's device lookup: one JointState per device, found by name. Readings of one
// device come in runs (a row's sensors one after another), so the last device found is checked
// first; a new device allocates once, a reading never does.
#include "iotshield/detect/joint.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace iots::detect {

class JointLayer {
public:
    explicit JointLayer(JointLevels levels = {}) : m_levels(levels) {}

    JointStep observe(core::Millis ts, std::string_view device, std::string_view sensor,
                      double value);
    // The verdict of the reading last observed.
    void note_flag(bool anomaly) noexcept {
        if (m_last != nullptr)
            m_last->note_flag(anomaly);
    }

    [[nodiscard]] std::size_t device_count() const noexcept { return m_devices.size(); }
    // For the state file: each device's name and state, and a device's state (added when new).
    template <class F> void for_each_device(F&& f) const {
        for (const auto& [name, state] : m_devices)
            f(name, *state);
    }
    JointState& device_state(std::string_view device);
    [[nodiscard]] const JointLevels& levels() const noexcept { return m_levels; }

private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    struct Eq {
        using is_transparent = void;
        bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
    };

    JointLevels m_levels;
    std::unordered_map<std::string, std::unique_ptr<JointState>, Hash, Eq> m_devices;
    const std::string* m_last_name = nullptr; // key of m_last in m_devices
    JointState* m_last = nullptr;
};

} // namespace iots::detect
