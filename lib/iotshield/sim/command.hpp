#pragma once
// Actuator commands (DESIGN §2) and their acknowledgements, as the simulated nodes see them:
// {"kind":"command","id":...,"ts":...,"device":...,"actuator":"fan","action":"on"} in, and
// {"kind":"ack","id":...,"ts":...,"device":...,"actuator":...,"action":...,"status":"done"} out.
#include "iotshield/core/time.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace iots::sim {

struct Command {
    std::string id_json; // the id exactly as sent (a JSON string or number), echoed in the ack
    std::string device;
    std::string actuator;
    std::string action;
    std::string problem; // set when the command is malformed: answered "failed" with this reason
};

// nullopt (and `error` set) when the payload cannot be answered at all: not a JSON object, or no
// usable id. A command without a device is for the node of the topic it came on.
[[nodiscard]] std::optional<Command>
parse_command(std::string_view payload, std::string_view topic_device, std::string& error);

// The answer; `failure` empty means done.
[[nodiscard]] std::string ack_json(const Command& c, core::Millis ts, std::string_view failure);

} // namespace iots::sim
