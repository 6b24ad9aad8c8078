#include "iotshield/record/alert.hpp"

#include "iotshield/record/serialize.hpp"

namespace iots::record {

namespace {
void key(std::string_view k, std::string& out) {
    out.push_back(',');
    append_json_string(k, out);
    out.push_back(':');
}
void str(std::string_view k, std::string_view v, std::string& out) {
    key(k, out);
    append_json_string(v, out);
}
void text(const AlertText& t, std::string& out) {
    str("title", t.title, out);
    str("description", t.description, out);
    str("suggestion", t.suggestion, out);
}
} // namespace

std::string alert_json(const AlertRecord& a) {
    std::string out;
    out.reserve(768);
    out += R"({"kind":"alert")";
    str("id", a.id, out);
    str("ts", core::format_rfc3339(a.ts), out);
    str("device", a.device, out);
    str("sensor", a.sensor, out);
    str("severity", a.severity, out);
    text(a.text, out);
    key("value", out);
    if (a.value)
        append_number(*a.value, out);
    else
        out += "null";
    key("score", out);
    if (a.score)
        append_number(*a.score, out);
    else
        out += "null";
    str("incident", a.incident, out);
    str("source", a.source, out);
    str("event", a.event, out);
    if (!a.location.empty())
        str("location", a.location, out);
    str("peak", a.peak, out);
    if (!a.pattern.empty())
        str("pattern", a.pattern, out);
    key("reasons", out);
    out.push_back('[');
    for (std::size_t i = 0; i < a.reasons.size(); ++i) {
        if (i > 0)
            out.push_back(',');
        append_json_string(a.reasons[i], out);
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

} // namespace iots::record
