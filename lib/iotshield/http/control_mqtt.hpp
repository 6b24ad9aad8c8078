#pragma once
// The MQTT side of control: publishes commands at QoS 1 to <prefix>/control/<device> and passes
// every answer on <prefix>/control/+/ack to the server. Kept in its own file so the HTTP code and
// its tests link without a broker.
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/http/server.hpp"

#include <memory>

namespace iots::mqtt {
class Client;
}

namespace iots::http {

class MqttControl : public Publisher {
public:
    MqttControl(const core::BrokerOptions& options, const core::Logger& log);
    ~MqttControl() override;
    MqttControl(const MqttControl&) = delete;
    MqttControl& operator=(const MqttControl&) = delete;

    // Connects (Error(unavailable) after `patience_ms`) and subscribes to the answers.
    void start(Server& server, int patience_ms);
    void publish(const std::string& topic, const std::string& payload) override;
    [[nodiscard]] bool connected() const override;

private:
    core::BrokerOptions m_options;
    std::unique_ptr<mqtt::Client> m_client;
};

} // namespace iots::http
