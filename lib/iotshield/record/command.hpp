#pragma once
// The control records of DESIGN §2, as they travel on <prefix>/control/<device> and …/ack:
// a command {"kind":"command","id":...,"ts":...,"device":...,"actuator":"fan","action":"on"}
// and the device's answer with the same id and "status":"done|failed". Written and read here for
// both ends: iots-serve's control service sends commands and reads answers, a (simulated) node
// reads commands and answers them.
#include "iotshield/core/time.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iots::record {

inline const std::vector<std::string_view> kActuators{"fan", "valve", "buzzer", "relay"};
inline const std::vector<std::string_view> kActions{"on", "off", "open", "close", "toggle"};

// A command as sent.
struct Command {
    std::string id;
    core::Millis ts = 0;
    std::string device;
    std::string actuator;
    std::string action;
};
// {"action":...,"actuator":...,"device":...,"id":...,"kind":"command","ts":...}
[[nodiscard]] std::string command_json(const Command& c);

// A command as a node receives it.
struct ReceivedCommand {
    std::string id_json; // the id exactly as sent (a JSON string or number), echoed in the ack
    std::string device;
    std::string actuator;
    std::string action;
    std::string problem; // set when the command is malformed: answered "failed" with this reason
};
// nullopt (and `error` set) when the payload cannot be answered at all: not a JSON object, or no
// usable id. A command without a device is for the node of the topic it came on.
[[nodiscard]] std::optional<ReceivedCommand>
parse_command(std::string_view payload, std::string_view topic_device, std::string& error);

// The node's answer, {"kind":"ack","id":...,"ts":...,"device":...,"actuator":...,"action":...,
// "status":"done"} or "failed" with a "reason"; `failure` empty means done.
[[nodiscard]] std::string ack_json(const ReceivedCommand& c, core::Millis ts,
                                   std::string_view failure);

// An answer as the sender reads it.
struct Ack {
    std::string id;
    std::string status; // done | failed
};
// nullopt, with `why` set for the log line, when it is not {"id":"...","status":"done|failed"}.
[[nodiscard]] std::optional<Ack> parse_ack(std::string_view payload, std::string& why);

} // namespace iots::record
