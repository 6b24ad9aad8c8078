#pragma once
// The MQTT side of control: publishes commands at QoS 1 to <prefix>/control/<device> and passes
// every answer on <prefix>/control/+/ack to a callback (the control service's handle_ack). Kept
// in its own file so the services and their tests link without a broker.
#include "iotshield/control/publisher.hpp"
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"

#include <functional>
#include <memory>
#include <string_view>

namespace iots::mqtt {
class Client;
}

namespace iots::control {

class MqttControl : public Publisher {
public:
    // topic, payload; called on the MQTT network thread.
    using AckHandler = std::function<void(std::string_view, std::string_view)>;

    MqttControl(const core::BrokerOptions& options, const core::Logger& log);
    ~MqttControl() override;
    MqttControl(const MqttControl&) = delete;
    MqttControl& operator=(const MqttControl&) = delete;

    // Connects (Error(unavailable) after `patience_ms`) and subscribes to the answers.
    void start(AckHandler on_ack, int patience_ms);
    void publish(const std::string& topic, const std::string& payload) override;
    [[nodiscard]] bool connected() const override;
    // The client, to publish other records on the same connection.
    [[nodiscard]] mqtt::Client& client() noexcept { return *m_client; }

private:
    core::BrokerOptions m_options;
    std::unique_ptr<mqtt::Client> m_client;
};

} // namespace iots::control
