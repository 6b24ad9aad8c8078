#include "iotshield/alert/alert.hpp"

#include "iotshield/record/serialize.hpp"

namespace iots::alert {

Alert make_alert(const Event& e, Text rules_text) {
    Alert a;
    a.id = e.alert_id;
    a.ts = e.ts;
    a.device = e.incident.device;
    a.location = e.incident.location;
    a.sensor = e.sensor;
    a.incident = e.incident.id;
    a.event = e.kind;
    a.peak = e.incident.severity;
    a.severity = e.kind == EventKind::resolve ? Severity::low : e.incident.severity;
    if (const auto* s = e.incident.find(e.sensor); s != nullptr) {
        a.value = s->value;
        a.score = s->score;
        a.reasons = s->reasons;
    }
    a.text = rules_text;
    a.rules = std::move(rules_text);
    return a;
}

namespace {
void key(std::string_view k, std::string& out) {
    out.push_back(',');
    record::append_json_string(k, out);
    out.push_back(':');
}
void str(std::string_view k, std::string_view v, std::string& out) {
    key(k, out);
    record::append_json_string(v, out);
}
void text(const Text& t, std::string& out) {
    str("title", t.title, out);
    str("description", t.description, out);
    str("suggestion", t.suggestion, out);
}
} // namespace

std::string to_json(const Alert& a) {
    std::string out;
    out.reserve(768);
    out += R"({"kind":"alert")";
    str("id", a.id, out);
    str("ts", core::format_rfc3339(a.ts), out);
    str("device", a.device, out);
    str("sensor", a.sensor, out);
    str("severity", severity_name(a.severity), out);
    text(a.text, out);
    key("value", out);
    if (a.value)
        record::append_number(*a.value, out);
    else
        out += "null";
    key("score", out);
    if (a.score)
        record::append_number(*a.score, out);
    else
        out += "null";
    str("incident", a.incident, out);
    str("source", a.source, out);
    str("event", event_name(a.event), out);
    if (!a.location.empty())
        str("location", a.location, out);
    str("peak", severity_name(a.peak), out);
    key("reasons", out);
    out.push_back('[');
    for (std::size_t i = 0; i < a.reasons.size(); ++i) {
        if (i > 0)
            out.push_back(',');
        record::append_json_string(a.reasons[i], out);
    }
    out.push_back(']');
    if (a.source != "rules") {
        key("rules", out);
        out.push_back('{');
        std::string inner;
        text(a.rules, inner);
        out.append(inner, 1); // drop the leading comma
        out.push_back('}');
    }
    out.push_back('}');
    return out;
}

} // namespace iots::alert
