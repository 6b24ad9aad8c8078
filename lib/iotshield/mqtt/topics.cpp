#include "iotshield/mqtt/topics.hpp"

namespace iots::mqtt {

namespace {
std::string join(std::string_view prefix, std::string_view kind, std::string_view a,
                 std::string_view b = {}) {
    std::string t;
    t.reserve(prefix.size() + kind.size() + a.size() + b.size() + 3);
    t.append(prefix).append("/").append(kind).append("/").append(a);
    if (!b.empty())
        t.append("/").append(b);
    return t;
}
constexpr std::string_view kAck = "/ack";
} // namespace

std::string sensor_topic(std::string_view prefix, std::string_view device,
                         std::string_view sensor) {
    return join(prefix, "sensors", device, sensor);
}
std::string seed_topic(std::string_view prefix) {
    return join(prefix, "sensors", "data");
}
std::string status_topic(std::string_view prefix, std::string_view device) {
    return join(prefix, "status", device);
}
std::string anomaly_topic(std::string_view prefix, std::string_view device,
                          std::string_view sensor) {
    return join(prefix, "anomalies", device, sensor);
}
std::string alert_topic(std::string_view prefix, std::string_view device) {
    return join(prefix, "alerts", device);
}
std::string control_topic(std::string_view prefix, std::string_view device) {
    return join(prefix, "control", device);
}
std::string ack_topic(std::string_view prefix, std::string_view device) {
    return join(prefix, "control", device, "ack");
}

std::string sensors_filter(std::string_view prefix) {
    return join(prefix, "sensors", "#");
}
std::string status_filter(std::string_view prefix) {
    return join(prefix, "status", "#");
}
std::string anomalies_filter(std::string_view prefix) {
    return join(prefix, "anomalies", "#");
}
std::string alerts_filter(std::string_view prefix) {
    return join(prefix, "alerts", "#");
}
std::string sensor_filter(std::string_view prefix, std::string_view sensor) {
    return join(prefix, "sensors", "+", sensor);
}
std::string acks_filter(std::string_view prefix) {
    return join(prefix, "control", "+", "ack");
}
std::string shared_filter(std::string_view group, std::string_view filter) {
    std::string t;
    t.reserve(group.size() + filter.size() + 8);
    t.append("$share/").append(group).append("/").append(filter);
    return t;
}

TopicParser::TopicParser(std::string_view prefix)
    : m_sensors(join(prefix, "sensors", "")), m_status(join(prefix, "status", "")),
      m_control(join(prefix, "control", "")) {}

std::optional<std::string_view> TopicParser::status_device(std::string_view topic) const {
    if (!topic.starts_with(m_status))
        return std::nullopt;
    return topic.substr(m_status.size());
}

bool TopicParser::is_status(std::string_view filter) const {
    return filter.starts_with(m_status);
}

std::optional<TopicParser::Series> TopicParser::sensor_series(std::string_view topic) const {
    if (!topic.starts_with(m_sensors))
        return std::nullopt;
    const std::string_view rest = topic.substr(m_sensors.size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos || rest.find('/', slash + 1) != std::string_view::npos)
        return std::nullopt;
    return Series{rest.substr(0, slash), rest.substr(slash + 1)};
}

std::optional<std::string_view> TopicParser::ack_device(std::string_view topic) const {
    if (!topic.starts_with(m_control) || !topic.ends_with(kAck))
        return std::nullopt;
    return topic.substr(m_control.size(), topic.size() - m_control.size() - kAck.size());
}

} // namespace iots::mqtt
