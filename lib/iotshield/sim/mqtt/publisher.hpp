#pragma once
// The simulated nodes on MQTT (DESIGN §3): one connection per node, as real ESP32s have, so that
// each node's status topic gets its own last will; all of them on one network thread
// (mqtt::ClientGroup), so that 1,000 nodes cost neither 1,000 threads nor select()'s limit. On
// connect a node publishes a retained "online" on <prefix>/status/<device>; the broker publishes
// the retained "offline" will if the process dies, and a clean stop publishes "offline" itself
// before disconnecting. Readings go to <prefix>/sensors/<device>/<sensor> at the -q QoS. With
// actuators, each node subscribes to <prefix>/control/<device> and answers on
// <prefix>/control/<device>/ack.
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

    // Connects every node in parallel (Error(unavailable) / Error(permission) after
    // `patience_ms`; ExitRequest(0) on SIGINT/SIGTERM).
    void connect(int patience_ms);
    void reading(const record::Reading& r, std::string_view json) override;
    void ack(std::string_view device, std::string_view json) override;
    void flush() override {}
    // Publishes "offline" for every connected node, waits for QoS>0 messages to be acknowledged
    // (up to timeout_ms, at most 2 s after SIGINT/SIGTERM), disconnects all at once (at most
    // 1 s more). False when something was still unacknowledged.
    bool close(int timeout_ms);

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

} // namespace iots::sim
