#include "iotshield/record/alert.hpp"

#include "iotshield/record/serialize.hpp"

namespace iots::record {

namespace {
void text(const AlertText& t, std::string& out) {
    append_member("title", t.title, out);
    append_member("description", t.description, out);
    append_member("suggestion", t.suggestion, out);
}
} // namespace

std::string alert_json(const AlertRecord& a) {
    std::string out;
    out.reserve(768);
    out += R"({"kind":"alert")";
    append_member("id", a.id, out);
    append_member("ts", core::format_rfc3339(a.ts), out);
    append_member("device", a.device, out);
    append_member("sensor", a.sensor, out);
    append_member("severity", a.severity, out);
    text(a.text, out);
    append_key("value", out);
    if (a.value)
        append_number(*a.value, out);
    else
        out += "null";
    append_key("score", out);
    if (a.score)
        append_number(*a.score, out);
    else
        out += "null";
    append_member("incident", a.incident, out);
    append_member("source", a.source, out);
    append_member("event", a.event, out);
    if (!a.location.empty())
        append_member("location", a.location, out);
    append_member("peak", a.peak, out);
    if (!a.pattern.empty())
        append_member("pattern", a.pattern, out);
    append_key("reasons", out);
    out.push_back('[');
    for (std::size_t i = 0; i < a.reasons.size(); ++i) {
        if (i > 0)
            out.push_back(',');
        append_json_string(a.reasons[i], out);
    }
    out.push_back(']');
    if (a.source != "rules") {
        append_key("rules", out);
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
