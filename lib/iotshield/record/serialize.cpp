#include "iotshield/record/serialize.hpp"

#include <charconv>
#include <cmath>

namespace iots::record {

void append_json_string(std::string_view s, std::string& out) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t run = 0; // start of the pending run of characters that need no escape
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            out += "\\u00";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
        }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

void append_number(double v, std::string& out) {
    if (!std::isfinite(v)) { // never produced for valid records; keep the output valid JSON
        out += "null";
        return;
    }
    char buf[32];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
    if (ec != std::errc{}) {
        out += "null";
        return;
    }
    out.append(buf, static_cast<std::size_t>(ptr - buf));
}

namespace {
void append_int(std::int64_t v, std::string& out) {
    char buf[24];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<std::size_t>(ptr - buf));
}

void append_key(std::string_view key, std::string& out) {
    out.push_back(',');
    out.push_back('"');
    out.append(key);
    out += "\":";
}
} // namespace

void append_json(const Reading& r, std::string& out) {
    char ts[24];
    core::format_rfc3339(r.ts, ts);
    out += "{\"ts\":\"";
    out.append(ts, sizeof ts);
    out += "\",\"device\":";
    append_json_string(r.device, out);
    out += ",\"sensor\":";
    append_json_string(r.sensor, out);
    out += ",\"value\":";
    append_number(r.value, out);
    if (!r.unit.empty()) {
        append_key("unit", out);
        append_json_string(r.unit, out);
    }
    if (r.seq) {
        append_key("seq", out);
        append_int(*r.seq, out);
    }
    if (!r.location.empty()) {
        append_key("location", out);
        append_json_string(r.location, out);
    }
    if (!r.label.empty()) {
        append_key("label", out);
        append_json_string(r.label, out);
    }
    if (r.score) {
        append_key("score", out);
        append_number(*r.score, out);
    }
    if (r.anomaly) {
        append_key("anomaly", out);
        out += *r.anomaly ? "true" : "false";
    }
    if (r.score || r.anomaly || !r.reasons.empty()) {
        append_key("reasons", out);
        out.push_back('[');
        for (std::size_t i = 0; i < r.reasons.size(); ++i) {
            if (i > 0)
                out.push_back(',');
            append_json_string(r.reasons[i], out);
        }
        out.push_back(']');
    }
    if (!r.extra.empty()) {
        out.push_back(',');
        out += r.extra;
    }
    out.push_back('}');
}

std::string to_json(const Reading& r) {
    std::string out;
    out.reserve(160);
    append_json(r, out);
    return out;
}

} // namespace iots::record
