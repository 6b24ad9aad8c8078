#include "iotshield/record/action.hpp"

#include "iotshield/record/serialize.hpp"

namespace iots::record {

namespace {
void str(std::string_view k, std::string_view v, std::string& out) {
    out.push_back(',');
    append_json_string(k, out);
    out.push_back(':');
    append_json_string(v, out);
}
} // namespace

std::string action_json(const ActionRecord& a) {
    std::string out;
    out.reserve(512);
    out += R"({"kind":"action")";
    str("id", a.id, out);
    str("ts", core::format_rfc3339(a.ts), out);
    str("device", a.device, out);
    str("actuator", a.actuator, out);
    str("action", a.action, out);
    str("severity", a.severity, out);
    str("title", a.title, out);
    str("description", a.description, out);
    str("incident", a.incident, out);
    str("alert", a.alert, out);
    if (!a.location.empty())
        str("location", a.location, out);
    str("rule", a.rule, out);
    str("event", a.event, out);
    str("command", a.id, out);
    out += R"(,"attempt":)";
    out += std::to_string(a.attempt);
    str("status", a.status, out);
    out.push_back('}');
    return out;
}

} // namespace iots::record
