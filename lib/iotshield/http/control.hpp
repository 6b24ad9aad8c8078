#pragma once
// The control records the server reads (DESIGN §2): the body of POST /api/control/send/, and a
// device's answer on <prefix>/control/<device>/ack.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iots::http {

inline const std::vector<std::string_view> kActuators{"fan", "valve", "buzzer", "relay"};
inline const std::vector<std::string_view> kActions{"on", "off", "open", "close", "toggle"};

struct CommandRequest {
    std::string device; // DESIGN §2 alphabet
    std::string actuator;
    std::string action;
};
// {"device":...,"actuator":...,"action":...} ("device_id" and "command" accepted as aliases).
// Throws BadParam naming the field.
[[nodiscard]] CommandRequest parse_command_request(std::string_view body);

struct Ack {
    std::string id;
    std::string status; // done | failed
};
// nullopt, with `why` set for the log line, when it is not {"id":"...","status":"done|failed"}.
[[nodiscard]] std::optional<Ack> parse_ack(std::string_view payload, std::string& why);

} // namespace iots::http
