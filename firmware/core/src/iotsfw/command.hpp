#pragma once
// Commands on <prefix>/control/<device> and their answers on …/ack, exactly as iots-sim
// --actuators takes and answers them (lib/iotshield/record/command.* and Simulator::actuate):
// the same commands accepted, the same reasons for the failed ones, the same ack record. The one
// difference: before NTP has synced the ack has no "ts" (the sender matches answers by id).
#include "iotsfw/hardware.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iots::fw {

struct Command {
    std::string id_json; // the id re-written as nlohmann would dump it: echoed in the ack
    std::string device;
    std::string actuator;
    std::string action;
    std::string problem; // set when malformed: answered "failed" with this reason
};
// nullopt (and `error` set) when it cannot be answered: not a JSON object, or no id that is a
// string or a number. A command without a device is for the node of the topic.
[[nodiscard]] std::optional<Command>
parse_command(std::string_view payload, std::string_view topic_device, std::string& error);

// What the command does to the relays, or why it cannot (Simulator::actuate's reasons):
// fan, buzzer, relay take on/off; valve takes open/on (energised) and close/closed/off.
struct Actuation {
    Actuator actuator = Actuator::fan;
    bool on = false;
    std::string failure; // empty: done
};
[[nodiscard]] Actuation plan_actuation(std::string_view actuator, std::string_view action);

// {"kind":"ack","id":…,"ts":…,"device":…,"actuator":…,"action":…,"status":"done"} or
// "status":"failed","reason":… when `failure` is not empty.
[[nodiscard]] std::string ack_json(const Command& c, std::optional<std::int64_t> ts,
                                   std::string_view failure);

// Text made safe for a log line or a reason (core::printable's rules): control characters and
// bytes that are not UTF-8 become \n \r \t \xNN \u00NN, a backslash \\.
[[nodiscard]] std::string printable(std::string_view text);

} // namespace iots::fw
