#include "iotshield/mqtt/ha_topics.hpp"

#include <fmt/format.h>

#include <utility>

namespace iots::mqtt {

std::string ha_config_topic(std::string_view discovery, std::string_view component,
                            std::string_view node, std::string_view object) {
    return fmt::format("{}/{}/{}/{}/config", discovery, component, node, object);
}

std::string ha_birth_topic(std::string_view discovery) {
    return fmt::format("{}/status", discovery);
}

std::string ha_state_topic(std::string_view prefix, std::string_view device,
                           std::string_view state) {
    return fmt::format("{}/ha/{}/{}", prefix, device, state);
}

std::string ha_states_filter(std::string_view prefix) {
    return fmt::format("{}/ha/+/+", prefix);
}

std::string ha_bridge_topic(std::string_view prefix) {
    return fmt::format("{}/ha/status", prefix);
}

namespace {

// The levels after `head` ("a/b/" of "a/b/x/y"): one level when `levels` is 1, two when 2;
// nullopt when the topic does not start with head or has another number of levels, or one is
// empty.
std::optional<std::pair<std::string_view, std::string_view>>
split_after(std::string_view topic, std::string_view head, int levels) {
    if (topic.size() <= head.size() || topic.substr(0, head.size()) != head)
        return std::nullopt;
    const std::string_view rest = topic.substr(head.size());
    const auto slash = rest.find('/');
    if (levels == 1) {
        if (slash != std::string_view::npos)
            return std::nullopt;
        return std::pair{rest, std::string_view{}};
    }
    if (slash == 0 || slash == std::string_view::npos || slash + 1 == rest.size())
        return std::nullopt;
    const std::string_view second = rest.substr(slash + 1);
    if (second.find('/') != std::string_view::npos)
        return std::nullopt;
    return std::pair{rest.substr(0, slash), second};
}

} // namespace

HaTopicParser::HaTopicParser(std::string_view prefix, std::string_view discovery)
    : m_sensors(fmt::format("{}/sensors/", prefix)), m_status(fmt::format("{}/status/", prefix)),
      m_anomalies(fmt::format("{}/anomalies/", prefix)),
      m_alerts(fmt::format("{}/alerts/", prefix)), m_states(fmt::format("{}/ha/", prefix)),
      m_birth(ha_birth_topic(discovery)) {}

HaTopicParser::Parsed HaTopicParser::parse(std::string_view topic) const {
    if (topic == m_birth)
        return {Kind::ha_birth, {}, {}};
    if (auto p = split_after(topic, m_sensors, 2))
        return {Kind::reading, p->first, p->second};
    if (auto p = split_after(topic, m_status, 1))
        return {Kind::status, p->first, {}};
    if (auto p = split_after(topic, m_anomalies, 2))
        return {Kind::anomaly, p->first, p->second};
    if (auto p = split_after(topic, m_alerts, 1))
        return {Kind::alert, p->first, {}};
    if (auto p = split_after(topic, m_states, 2))
        return {Kind::ha_state, p->first, p->second};
    return {};
}

} // namespace iots::mqtt
