#include "iotshield/record/action.hpp"

#include "iotshield/record/serialize.hpp"

namespace iots::record {

std::string action_json(const ActionRecord& a) {
    std::string out;
    out.reserve(512);
    out += R"({"kind":"action")";
    append_member("id", a.id, out);
    append_member("ts", core::format_rfc3339(a.ts), out);
    append_member("device", a.device, out);
    append_member("actuator", a.actuator, out);
    append_member("action", a.action, out);
    append_member("severity", a.severity, out);
    append_member("title", a.title, out);
    append_member("description", a.description, out);
    append_member("incident", a.incident, out);
    append_member("alert", a.alert, out);
    if (!a.location.empty())
        append_member("location", a.location, out);
    append_member("rule", a.rule, out);
    append_member("event", a.event, out);
    append_member("command", a.id, out);
    out += R"(,"attempt":)";
    out += std::to_string(a.attempt);
    append_member("status", a.status, out);
    out.push_back('}');
    return out;
}

} // namespace iots::record
