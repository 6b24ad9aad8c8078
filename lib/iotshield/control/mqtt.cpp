#include "iotshield/control/mqtt.hpp"

#include "iotshield/mqtt/client.hpp"

namespace iots::control {

MqttControl::MqttControl(const core::BrokerOptions& options, const core::Logger& log)
    : m_options(options), m_client(std::make_unique<mqtt::Client>(options, log)) {}

MqttControl::~MqttControl() = default;

void MqttControl::start(AckHandler on_ack, int patience_ms) {
    m_client->on_message(
        [on_ack = std::move(on_ack)](const mqtt::Message& m) { on_ack(m.topic, m.payload); });
    m_client->subscribe(mqtt::acks_filter(m_options.topic_prefix), 1);
    m_client->connect(patience_ms);
}

void MqttControl::publish(const std::string& topic, const std::string& payload) {
    m_client->publish(topic, payload, 1, false);
}

bool MqttControl::connected() const {
    return m_client->connected();
}

} // namespace iots::control
