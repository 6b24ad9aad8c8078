#pragma once
// The simulated nodes on MQTT (DESIGN §3): one client per node, as real ESP32s have, so that each
// node's status topic gets its own last will. On connect a node publishes a retained "online" on
// <prefix>/status/<device>; the broker publishes the retained "offline" will if the process dies,
// and a clean stop publishes "offline" itself before disconnecting. Readings go to
// <prefix>/sensors/<device>/<sensor> at the -q QoS. With actuators, each node subscribes to
// <prefix>/control/<device> and answers on <prefix>/control/<device>/ack.
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/sim/config.hpp"
#include "iotshield/sim/run.hpp"

#include <memory>
#include <string>
#include <vector>

namespace iots::sim {

class MqttOutput : public Output {
public:
    // commands: where received commands go; null without --actuators. Nothing connects yet.
    MqttOutput(const core::BrokerOptions& options, const core::Logger& log,
               const std::vector<DeviceSpec>& devices, CommandQueue* commands);
    ~MqttOutput() override;
    MqttOutput(const MqttOutput&) = delete;
    MqttOutput& operator=(const MqttOutput&) = delete;

    // Connects every node (Error(unavailable) / Error(permission) after `patience_ms`).
    void connect(int patience_ms);
    void reading(const record::Reading& r, std::string_view json) override;
    void ack(std::string_view device, std::string_view json) override;
    void flush() override {}
    // Publishes "offline" for every node, waits for QoS>0 messages to be acknowledged (up to
    // timeout_ms), disconnects. False when something was still unacknowledged.
    bool close(int timeout_ms);

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

} // namespace iots::sim
