#pragma once
// Where commands go: an MQTT link in iots-serve (control_mqtt.hpp); none means control answers 503.
#include <string>

namespace iots::http {

class Publisher {
public:
    virtual ~Publisher() = default;
    // Publishes at QoS 1; throws iots::Error when the broker cannot take it.
    virtual void publish(const std::string& topic, const std::string& payload) = 0;
    [[nodiscard]] virtual bool connected() const = 0;
};

} // namespace iots::http
