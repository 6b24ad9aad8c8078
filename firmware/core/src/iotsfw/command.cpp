#include "iotsfw/command.hpp"

#include "iotsfw/json.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace iots::fw {

namespace {

const JsonMember* find(const std::vector<JsonMember>& members, std::string_view key) {
    const JsonMember* last = nullptr; // a repeated key: the last one, as nlohmann keeps it
    for (const auto& m : members)
        if (m.key == key)
            last = &m;
    return last;
}

// A number as nlohmann::json::dump() writes it: an integer as it is ("-0" is 0), a float as its
// shortest round-trip digits laid out by nlohmann's format_buffer: fixed with ".0" up to 15
// integer digits (1.50 → 1.5, 1e2 → 100.0), 0.000ddd down to 1e-4, else d.ddde±XX.
std::string dump_number(const std::string& raw) {
    if (raw.find_first_of(".eE") == std::string::npos)
        return raw == "-0" ? "0" : raw;
    const double v = std::strtod(raw.c_str(), nullptr);
    if (v == 0)
        return std::signbit(v) ? "-0.0" : "0.0";
    char buf[40];
    for (int precision = 0; precision <= 16; ++precision) { // d.ddd…e±XX, shortest that reads back
        std::snprintf(buf, sizeof buf, "%.*e", precision, v);
        if (std::strtod(buf, nullptr) == v)
            break;
    }
    std::string text(buf);
    std::string out;
    if (text.front() == '-') {
        out += '-';
        text.erase(0, 1);
    }
    const auto e = text.find('e');
    const int exp10 = std::atoi(text.c_str() + e + 1);
    std::string digits = text.substr(0, e);
    if (digits.size() > 1)
        digits.erase(1, 1); // the point
    while (digits.size() > 1 && digits.back() == '0')
        digits.pop_back();
    const int k = static_cast<int>(digits.size());
    const int n = exp10 + 1; // the point goes after n digits
    if (k <= n && n <= 15) {
        out += digits + std::string(static_cast<std::size_t>(n - k), '0') + ".0";
    } else if (0 < n && n <= 15) {
        out += digits.substr(0, static_cast<std::size_t>(n)) + "." +
               digits.substr(static_cast<std::size_t>(n));
    } else if (-4 < n && n <= 0) {
        out += "0." + std::string(static_cast<std::size_t>(-n), '0') + digits;
    } else {
        out += digits.substr(0, 1);
        if (k > 1)
            out += "." + digits.substr(1);
        const int x = n - 1;
        char ex[16];
        std::snprintf(ex, sizeof ex, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
        out += ex;
    }
    return out;
}

// \xNN, or \u00NN for a C1 control.
void put_hex_escape(bool unicode, unsigned v, std::string& out) {
    static const char kHex[] = "0123456789abcdef";
    out += unicode ? "\\u00" : "\\x";
    out.push_back(kHex[(v >> 4) & 0xF]);
    out.push_back(kHex[v & 0xF]);
}

} // namespace

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    const auto b = [&](std::size_t k) {
        return k < text.size() ? static_cast<unsigned char>(text[k]) : 0U;
    };
    const auto cont = [&](std::size_t k) { return (b(k) & 0xC0U) == 0x80U; };
    while (i < text.size()) {
        const unsigned c = b(i);
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7F) {
            put_hex_escape(false, c, out);
        } else if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            std::size_t n = 0;
            if (c >= 0xC2 && c <= 0xDF)
                n = cont(i + 1) ? 2 : 0;
            else if (c >= 0xE0 && c <= 0xEF)
                n = cont(i + 1) && cont(i + 2) && !(c == 0xE0 && b(i + 1) < 0xA0) &&
                            !(c == 0xED && b(i + 1) > 0x9F)
                        ? 3
                        : 0;
            else if (c >= 0xF0 && c <= 0xF4)
                n = cont(i + 1) && cont(i + 2) && cont(i + 3) && !(c == 0xF0 && b(i + 1) < 0x90) &&
                            !(c == 0xF4 && b(i + 1) > 0x8F)
                        ? 4
                        : 0;
            if (n == 0) {
                put_hex_escape(false, c, out);
            } else if (n == 2 && c == 0xC2 && b(i + 1) < 0xA0) { // a C1 control
                put_hex_escape(true, b(i + 1), out);
                i += 2;
                continue;
            } else {
                out.append(text.substr(i, n));
                i += n;
                continue;
            }
        }
        ++i;
    }
    return out;
}

std::optional<Command> parse_command(std::string_view payload, std::string_view topic_device,
                                     std::string& error) {
    std::vector<JsonMember> members;
    if (!parse_object(payload, members)) {
        error = "command is not a JSON object";
        return std::nullopt;
    }
    const JsonMember* id = find(members, "id");
    if (id == nullptr || id->type == JsonMember::Type::other) {
        error = "command has no id (a string or number)";
        return std::nullopt;
    }
    Command c;
    if (id->type == JsonMember::Type::string) {
        append_json_string(id->text, c.id_json);
    } else {
        c.id_json = dump_number(id->text);
    }
    c.device = std::string(topic_device);
    // The first problem found is the one answered, in record::parse_command's order.
    const auto text = [&](const char* key, std::string& out) {
        const JsonMember* m = find(members, key);
        if (m == nullptr || m->type != JsonMember::Type::string) {
            if (c.problem.empty())
                c.problem = std::string("missing string field \"") + key + "\"";
            return false;
        }
        out = m->text;
        return true;
    };
    if (find(members, "device") != nullptr) {
        std::string named;
        if (text("device", named) && named != topic_device && c.problem.empty())
            c.problem = "device '" + printable(named) + "' does not match the topic's '" +
                        printable(topic_device) + "'";
    }
    text("actuator", c.actuator);
    text("action", c.action);
    if (const JsonMember* kind = find(members, "kind");
        kind != nullptr && (kind->type != JsonMember::Type::string || kind->text != "command") &&
        c.problem.empty())
        c.problem = "kind is not \"command\"";
    return c;
}

Actuation plan_actuation(std::string_view actuator, std::string_view action) {
    Actuation a;
    if (actuator == "valve") {
        const bool open = action == "on" || action == "open";
        const bool shut = action == "off" || action == "close" || action == "closed";
        if (!open && !shut)
            a.failure = "unknown action '" + std::string(action) + "' for valve (open, close)";
        a.actuator = Actuator::valve;
        a.on = open;
        return a;
    }
    if (actuator == "fan") {
        a.actuator = Actuator::fan;
    } else if (actuator == "buzzer") {
        a.actuator = Actuator::buzzer;
    } else if (actuator == "relay") {
        a.actuator = Actuator::relay;
    } else {
        a.failure = "unknown actuator '" + std::string(actuator) + "' (fan, valve, buzzer, relay)";
        return a;
    }
    if (action != "on" && action != "off")
        a.failure = "unknown action '" + std::string(action) + "' for " + std::string(actuator) +
                    " (on, off)";
    a.on = action == "on";
    return a;
}

std::string ack_json(const Command& c, std::optional<std::int64_t> ts, std::string_view failure) {
    std::string out = "{\"kind\":\"ack\",\"id\":";
    out += c.id_json;
    if (ts) {
        out += ",\"ts\":\"";
        append_rfc3339(*ts, out);
        out += '"';
    }
    out += ",\"device\":";
    append_json_string(c.device, out);
    out += ",\"actuator\":";
    append_json_string(c.actuator, out);
    out += ",\"action\":";
    append_json_string(c.action, out);
    out += ",\"status\":";
    out += failure.empty() ? "\"done\"" : "\"failed\"";
    if (!failure.empty()) {
        out += ",\"reason\":";
        append_json_string(failure, out);
    }
    out += '}';
    return out;
}

} // namespace iots::fw
