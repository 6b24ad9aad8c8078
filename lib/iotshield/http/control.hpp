#pragma once
// The body of POST /api/control/send/ (the command and answer records themselves are in
// record/command.hpp).
#include "iotshield/control/service.hpp"

#include <string>
#include <string_view>

namespace iots::http {

using control::CommandRequest;
// {"device":...,"actuator":...,"action":...} ("device_id" and "command" accepted as aliases).
// Throws BadParam naming the field.
[[nodiscard]] CommandRequest parse_command_request(std::string_view body);

} // namespace iots::http
