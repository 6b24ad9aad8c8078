#pragma once
// The topics of DESIGN §3, under a prefix (`--topic-prefix`, default iotshield): every topic and
// filter a tool publishes to or subscribes to is built here, and every topic it receives is taken
// apart here.
#include <optional>
#include <string>
#include <string_view>

namespace iots::mqtt {

// <prefix>/sensors/<device>/<sensor>: a reading.
[[nodiscard]] std::string sensor_topic(std::string_view prefix, std::string_view device,
                                       std::string_view sensor);
// <prefix>/sensors/data: where the older IoTShield nodes publish (a reading, or their legacy shape
// that adapt/ reads).
[[nodiscard]] std::string seed_topic(std::string_view prefix);
// <prefix>/status/<device>: online/offline, retained.
[[nodiscard]] std::string status_topic(std::string_view prefix, std::string_view device);
// <prefix>/anomalies/<device>/<sensor>: a scored reading with anomaly:true.
[[nodiscard]] std::string anomaly_topic(std::string_view prefix, std::string_view device,
                                        std::string_view sensor);
// <prefix>/alerts/<device>: an alert.
[[nodiscard]] std::string alert_topic(std::string_view prefix, std::string_view device);
// <prefix>/control/<device>: a command to the device's actuators.
[[nodiscard]] std::string control_topic(std::string_view prefix, std::string_view device);
// <prefix>/control/<device>/ack: the device's answer to a command.
[[nodiscard]] std::string ack_topic(std::string_view prefix, std::string_view device);

// Subscription filters: every reading, every status, every anomaly, every answer to a command.
[[nodiscard]] std::string sensors_filter(std::string_view prefix);   // <prefix>/sensors/#
[[nodiscard]] std::string status_filter(std::string_view prefix);    // <prefix>/status/#
[[nodiscard]] std::string anomalies_filter(std::string_view prefix); // <prefix>/anomalies/#
[[nodiscard]] std::string acks_filter(std::string_view prefix);      // <prefix>/control/+/ack
[[nodiscard]] std::string alerts_filter(std::string_view prefix);    // <prefix>/alerts/#
// Every reading of one sensor kind: <prefix>/sensors/+/<sensor> (iots-act's motion).
[[nodiscard]] std::string sensor_filter(std::string_view prefix, std::string_view sensor);
// An MQTT 5 shared subscription (--share GROUP): $share/<group>/<filter>; the broker hands each
// message to one member of the group.
[[nodiscard]] std::string shared_filter(std::string_view group, std::string_view filter);

// Takes received topics apart; made once per prefix, then cheap per message.
class TopicParser {
public:
    explicit TopicParser(std::string_view prefix);

    struct Series {
        std::string_view device, sensor;
    };
    // <device> of <prefix>/status/<device> (everything after the last fixed level, unchecked).
    [[nodiscard]] std::optional<std::string_view> status_device(std::string_view topic) const;
    // A status filter (one that starts with <prefix>/status/).
    [[nodiscard]] bool is_status(std::string_view filter) const;
    // <device> and <sensor> of <prefix>/sensors/<device>/<sensor> (exactly two levels under
    // sensors/: not the seed's <prefix>/sensors/data).
    [[nodiscard]] std::optional<Series> sensor_series(std::string_view topic) const;
    // <device> of <prefix>/control/<device>/ack.
    [[nodiscard]] std::optional<std::string_view> ack_device(std::string_view topic) const;

private:
    std::string m_sensors, m_status, m_control;
};

} // namespace iots::mqtt
