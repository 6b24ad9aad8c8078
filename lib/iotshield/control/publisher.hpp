#pragma once
// Where commands go: an MQTT link (mqtt.hpp) in iots-serve and iots-act; none means the control
// service refuses to send (iots-serve answers 503).
#include <string>

namespace iots::control {

class Publisher {
public:
    virtual ~Publisher() = default;
    // Publishes at QoS 1; throws iots::Error when the broker cannot take it.
    virtual void publish(const std::string& topic, const std::string& payload) = 0;
    [[nodiscard]] virtual bool connected() const = 0;
};

} // namespace iots::control
