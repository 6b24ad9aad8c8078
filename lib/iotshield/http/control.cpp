#include "iotshield/http/control.hpp"

#include "iotshield/http/params.hpp"
#include "iotshield/record/command.hpp"

#include <nlohmann/json.hpp>

namespace iots::http {

using nlohmann::json;

CommandRequest parse_command_request(std::string_view body) {
    const auto j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw BadParam("body", "must be a JSON object like "
                               "{\"device\":\"esp32-kitchen\",\"actuator\":\"fan\","
                               "\"action\":\"on\"}");
    const auto text = [&](const char* key, const char* alias) -> std::string {
        for (const char* k : {key, alias}) {
            if (k == nullptr || !j.contains(k))
                continue;
            if (!j[k].is_string())
                throw BadParam(key, "must be a string");
            return j[k].get<std::string>();
        }
        throw BadParam(key, "required");
    };
    CommandRequest c;
    c.device = parse_name("device", text("device", "device_id"));
    c.actuator = parse_choice("actuator", text("actuator", nullptr), record::kActuators);
    c.action = parse_choice("action", text("action", "command"), record::kActions);
    return c;
}

} // namespace iots::http
