// The command records (DESIGN §2) on any bytes: as a simulated node reads a command, as iots-serve
// reads a command request body (http/control) and a device's answer (both record/command).
// Invariants: a node answers anything it can with one line of valid JSON, an ack echoing the
// command's id exactly, "failed" with a one-line reason when the command is malformed and "done"
// otherwise, and gives a one-line reason for what it cannot answer; the server accepts only a
// request with a device of the DESIGN §2 alphabet and a listed actuator and action, refusing any
// other with a BadParam naming the field, and only an answer of status done or failed.
#include "fuzz_check.hpp"
#include "iotshield/http/control.hpp"
#include "iotshield/http/params.hpp"
#include "iotshield/record/command.hpp"
#include "iotshield/record/sensor.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include <string>

using iots::fuzz::check;

namespace {

bool listed(const std::vector<std::string_view>& list, const std::string& s) {
    return std::find(list.begin(), list.end(), s) != list.end();
}

void server_side(std::string_view payload) {
    try {
        const auto r = iots::http::parse_command_request(payload);
        check(iots::record::valid_name(r.device) && listed(iots::record::kActuators, r.actuator) &&
                  listed(iots::record::kActions, r.action),
              "command request accepted with a bad field", payload);
    } catch (const iots::http::BadParam& e) {
        const auto& p = e.parameter();
        check(p == "body" || p == "device" || p == "actuator" || p == "action",
              "command request refused naming no field", e.what());
        iots::fuzz::check_one_line(e.what(), "command request refusal");
    }
    std::string why;
    if (const auto ack = iots::record::parse_ack(payload, why))
        check(ack->status == "done" || ack->status == "failed", "answer with another status",
              ack->status);
    else
        iots::fuzz::check_one_line(why, "ignored answer reason");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    const auto payload = iots::fuzz::as_text(data, size);
    server_side(payload);
    std::string error;
    const auto c = iots::record::parse_command(payload, "esp32-kitchen", error);
    if (!c) {
        iots::fuzz::check_one_line(error, "unanswerable command reason");
        return 0;
    }
    if (!c->problem.empty())
        iots::fuzz::check_one_line(c->problem, "malformed command reason");
    const std::string ack = iots::record::ack_json(*c, 1761410712345, c->problem);
    check(ack.find('\n') == std::string::npos, "ack spans lines", ack);
    const auto j = nlohmann::json::parse(ack, nullptr, false);
    check(!j.is_discarded() && j.is_object(), "ack is not a JSON object", ack);
    const auto sent = nlohmann::json::parse(payload, nullptr, false);
    check(j["kind"] == "ack" && j["id"] == sent["id"], "ack does not echo the id", ack);
    check(j["status"] == (c->problem.empty() ? "done" : "failed"), "ack status is wrong", ack);
    check(j["device"] == "esp32-kitchen", "ack names another device", ack);
    return 0;
}
