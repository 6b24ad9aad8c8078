#include "iotshield/record/command.hpp"

#include "iotshield/core/printable.hpp"
#include "iotshield/record/serialize.hpp"

#include <nlohmann/json.hpp>

namespace iots::record {

std::string command_json(const Command& c) {
    const nlohmann::json j{{"kind", "command"},
                           {"id", c.id},
                           {"ts", core::format_rfc3339(c.ts)},
                           {"device", c.device},
                           {"actuator", c.actuator},
                           {"action", c.action}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<ReceivedCommand> parse_command(std::string_view payload,
                                             std::string_view topic_device, std::string& error) {
    const auto j = nlohmann::json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        error = "command is not a JSON object";
        return std::nullopt;
    }
    const auto id = j.find("id");
    if (id == j.end() || !(id->is_string() || id->is_number())) {
        error = "command has no id (a string or number)";
        return std::nullopt;
    }
    ReceivedCommand c;
    c.id_json = id->dump();
    c.device = std::string(topic_device);
    const auto text = [&](const char* key, std::string& out) {
        const auto it = j.find(key);
        if (it == j.end() || !it->is_string()) {
            if (c.problem.empty())
                c.problem = std::string("missing string field \"") + key + "\"";
            return false;
        }
        out = it->get<std::string>();
        return true;
    };
    if (const auto dev = j.find("device"); dev != j.end()) {
        std::string named;
        if (text("device", named) && named != topic_device && c.problem.empty())
            c.problem = "device '" + core::printable(named) + "' does not match the topic's '" +
                        core::printable(topic_device) + "'";
    }
    text("actuator", c.actuator);
    text("action", c.action);
    if (const auto kind = j.find("kind");
        kind != j.end() && (!kind->is_string() || kind->get<std::string>() != "command") &&
        c.problem.empty())
        c.problem = "kind is not \"command\"";
    return c;
}

std::string ack_json(const ReceivedCommand& c, core::Millis ts, std::string_view failure) {
    std::string out = "{\"kind\":\"ack\",\"id\":";
    out += c.id_json;
    out += ",\"ts\":";
    append_json_string(core::format_rfc3339(ts), out);
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

std::optional<Ack> parse_ack(std::string_view payload, std::string& why) {
    const auto j = nlohmann::json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("id") || !j["id"].is_string() ||
        !j.contains("status") || !j["status"].is_string()) {
        why = "expected {\"id\":...,\"status\":...}";
        return std::nullopt;
    }
    Ack a{j["id"].get<std::string>(), j["status"].get<std::string>()};
    if (a.status != "done" && a.status != "failed") {
        why = "status must be done or failed";
        return std::nullopt;
    }
    return a;
}

} // namespace iots::record
