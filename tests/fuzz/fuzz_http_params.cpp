// The HTTP API's parameter checks (http/params) on any query string, decoded as the server decodes
// it for the routes (http/message's parse_target), each parameter checked as its route checks it.
// Invariants: a refused parameter is BadParam naming it with a one-line reason (it becomes the 400
// answer); an accepted one is within its bounds, a name of the DESIGN §2 alphabet, one of the
// listed choices, or a time that formats and parses back to itself. The raw input is also tried as
// --listen and as an Authorization header.
#include "fuzz_check.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/http/auth.hpp"
#include "iotshield/http/message.hpp"
#include "iotshield/http/params.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

using iots::fuzz::check;

namespace {

// As in http/server.cpp.
const std::vector<std::string_view> kSeverities{"LOW", "MEDIUM", "HIGH", "CRITICAL"};
const std::vector<std::string_view> kStatuses{"new", "acknowledged", "resolved"};
const std::vector<std::string_view> kActuators{"fan", "valve", "buzzer", "relay"};
const std::vector<std::string_view> kActions{"on", "off", "open", "close", "toggle"};
constexpr std::int64_t kYear10000 = 253402300800000; // 10000-01-01T00:00:00Z in epoch ms

bool name_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

void check_int(const std::string& name, const std::string& v, std::int64_t lo, std::int64_t hi) {
    const auto n = iots::http::parse_int(name, v, lo, hi);
    check(n >= lo && n <= hi, "integer parameter outside its bounds", name + "=" + v);
}

void check_name(const std::string& name, const std::string& v) {
    const auto n = iots::http::parse_name(name, v);
    check(n == v && !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), name_char),
          "name parameter outside the alphabet", v);
}

void check_choice(const std::string& name, const std::string& v,
                  const std::vector<std::string_view>& allowed, bool fold) {
    const auto c = iots::http::parse_choice(name, v, allowed, fold);
    check(std::find(allowed.begin(), allowed.end(), c) != allowed.end(),
          "choice parameter not one of its choices", v);
}

void check_time(const std::string& name, const std::string& v) {
    const auto ms = iots::http::parse_time(name, v);
    if (ms >= 0 && ms < kYear10000) {
        const auto again = iots::core::parse_rfc3339(iots::core::format_rfc3339(ms));
        check(again && *again == ms, "time does not format and parse back to itself", v);
    }
}

void check_param(const std::string& key, const std::string& value) {
    const std::vector<std::pair<std::string_view, std::function<void()>>> checks{
        {"limit", [&] { check_int(key, value, 1, 1000); }},
        {"points", [&] { check_int(key, value, 2, 5000); }},
        {"device", [&] { check_name(key, value); }},
        {"sensor", [&] { check_name(key, value); }},
        {"severity", [&] { check_choice(key, value, kSeverities, true); }},
        {"status", [&] { check_choice(key, value, kStatuses, false); }},
        {"actuator", [&] { check_choice(key, value, kActuators, false); }},
        {"action", [&] { check_choice(key, value, kActions, false); }},
        {"from", [&] { check_time(key, value); }},
        {"to", [&] { check_time(key, value); }},
    };
    for (const auto& [name, run] : checks) {
        if (key != name)
            continue;
        try {
            run();
        } catch (const iots::http::BadParam& e) {
            check(e.parameter() == key, "BadParam names another parameter", e.what());
            check(std::string_view(e.what()).starts_with(key + ": "),
                  "BadParam message does not start with the parameter", e.what());
            iots::fuzz::check_one_line(e.what(), "BadParam message");
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    const std::string text(iots::fuzz::as_text(data, size));
    iots::http::Request req;
    if (iots::http::parse_target("/api?" + text, req))
        for (const auto& [key, value] : req.params)
            check_param(key, value);

    try {
        const auto l = iots::http::parse_listen(text);
        check(l.port >= 0 && l.port <= 65535 && !l.host.empty(), "--listen out of range", text);
    } catch (const iots::Error& e) {
        check(e.code() == iots::Exit::usage, "--listen error is not a usage error (2)", e.what());
    }
    if (const auto token = iots::http::bearer_token(text)) {
        check(!token->empty() && token->front() != ' ' && token->back() != ' ' &&
                  text.find(*token) != std::string::npos,
              "bearer token is not a trimmed part of the header", text);
    }
    (void)iots::http::is_loopback(text);
    return 0;
}
