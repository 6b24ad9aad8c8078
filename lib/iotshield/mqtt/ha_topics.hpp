#pragma once
// The topics of Home Assistant's MQTT discovery (DESIGN §3) and of iots-ha's own derived states,
// built and taken apart here as the project's topics are in topics.hpp.
#include <optional>
#include <string>
#include <string_view>

namespace iots::mqtt {

// <discovery>/<component>/<node>/<object>/config: a retained discovery config.
[[nodiscard]] std::string ha_config_topic(std::string_view discovery, std::string_view component,
                                          std::string_view node, std::string_view object);
// <discovery>/status: Home Assistant's birth (online) and will (offline).
[[nodiscard]] std::string ha_birth_topic(std::string_view discovery);
// <prefix>/ha/<device>/<state>: a state iots-ha derives (gas_leak, anomaly, severity), retained.
[[nodiscard]] std::string ha_state_topic(std::string_view prefix, std::string_view device,
                                         std::string_view state);
// <prefix>/ha/+/+: every derived state (read back at start, so a restart keeps them).
[[nodiscard]] std::string ha_states_filter(std::string_view prefix);
// <prefix>/ha/status: iots-ha's own online/offline, retained, offline as its will.
[[nodiscard]] std::string ha_bridge_topic(std::string_view prefix);

// What iots-ha receives, told apart by topic.
class HaTopicParser {
public:
    HaTopicParser(std::string_view prefix, std::string_view discovery);

    enum class Kind { reading, status, anomaly, alert, ha_birth, ha_state, other };
    struct Parsed {
        Kind kind = Kind::other;
        std::string_view device; // empty for ha_birth and other
        std::string_view name;   // the sensor (reading, anomaly) or the state (ha_state)
    };
    [[nodiscard]] Parsed parse(std::string_view topic) const;

private:
    std::string m_sensors, m_status, m_anomalies, m_alerts, m_states, m_birth;
};

} // namespace iots::mqtt
