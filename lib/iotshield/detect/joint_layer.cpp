#include "iotshield/detect/joint_layer.hpp"

namespace iots::detect {

JointStep JointLayer::observe(core::Millis ts, std::string_view device, std::string_view sensor,
                              double value) {
    if (m_last == nullptr || *m_last_name != device) {
        auto it = m_devices.find(device);
        if (it == m_devices.end())
            it = m_devices.emplace(std::string(device), std::make_unique<JointState>()).first;
        m_last_name = &it->first;
        m_last = it->second.get();
    }
    return m_last->observe(ts, sensor, value, m_levels);
}

JointState& JointLayer::device_state(std::string_view device) {
    auto it = m_devices.find(device);
    if (it == m_devices.end())
        it = m_devices.emplace(std::string(device), std::make_unique<JointState>()).first;
    return *it->second;
}

} // namespace iots::detect
