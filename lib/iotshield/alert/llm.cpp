#include "iotshield/alert/llm.hpp"

#include "iotshield/alert/rules.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace iots::alert {

using nlohmann::json;

std::string_view provider_name(Provider p) noexcept {
    return p == Provider::gemini ? "gemini" : "openai";
}

namespace {

constexpr std::string_view kSystem =
    "You write short, calm and precise alerts for a person at home about readings from their "
    "home sensors. Use only the facts given; do not invent devices, places or numbers. Reply "
    "with one JSON object: title (at most 80 characters), description (what happened, with the "
    "values and their normal ranges, at most 400 characters), suggestion (concrete steps to take "
    "now, at most 300 characters) and severity (LOW, MEDIUM, HIGH or CRITICAL, never lower than "
    "the severity in the facts).";

constexpr std::string_view kAsk = "Write the alert for this incident. Facts (JSON): ";

double rounded(double v) {
    return std::round(v * 1000.0) / 1000.0;
}

double to_step(double v, double step) {
    return std::round(v / step) * step;
}

} // namespace

double coarse_value(std::string_view sensor, double value) noexcept {
    if (sensor == "flame" || sensor == "motion")
        return value;
    if (sensor == "temperature")
        return to_step(value, 1.0);
    if (sensor == "humidity")
        return to_step(value, 5.0);
    if (sensor == "gas" || sensor == "light")
        return to_step(value, 50.0);
    if (value == 0.0 || !std::isfinite(value))
        return value;
    // Two significant digits: 1612.5 -> 1600, 0.0347 -> 0.035 (divided by a power of ten, not
    // multiplied by its inverse, so that the JSON shows 0.035 and not 0.035000000000000003).
    const int exponent = static_cast<int>(std::floor(std::log10(std::fabs(value)))) - 1;
    if (exponent >= 0)
        return to_step(value, std::pow(10.0, exponent));
    const double inverse = std::pow(10.0, -exponent);
    return std::round(value * inverse) / inverse;
}

bool loopback_url(std::string_view url) noexcept {
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos)
        return false;
    std::string_view rest = url.substr(scheme + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (const auto at = rest.rfind('@'); at != std::string_view::npos)
        rest.remove_prefix(at + 1);
    std::string_view host;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos)
            return false;
        host = rest.substr(1, close - 1);
    } else {
        host = rest.substr(0, rest.find(':'));
    }
    if (host == "localhost" || host == "::1")
        return true;
    // 127.0.0.0/8 written as a dotted quad of digits only (not 127.0.0.1.example.com).
    if (host.substr(0, 4) != "127.")
        return false;
    int dots = 0;
    for (const char c : host) {
        if (c == '.')
            ++dots;
        else if (c < '0' || c > '9')
            return false;
    }
    return dots == 3;
}

std::string facts_json(const Event& e, const SeverityPolicy& policy, Detail detail) {
    const bool coarse = detail == Detail::coarse;
    const Incident& inc = e.incident;
    json f = json::object();
    f["event"] = event_name(e.kind);
    f["severity"] = severity_name(inc.severity);
    f["pattern"] = pattern_name(classify(inc, e.sensor, policy));
    if (!inc.location.empty())
        f["room"] = inc.location;
    const auto minutes = (inc.last_ts - inc.opened_ts) / 60000;
    f["duration_minutes"] = coarse ? (minutes + 2) / 5 * 5 : minutes; // coarse: to 5 minutes
    json readings = json::array();
    for (const auto& s : inc.sensors) {
        json r = json::object();
        r["sensor"] = s.sensor;
        r["value"] = coarse ? coarse_value(s.sensor, s.value) : rounded(s.value);
        if (!s.unit.empty())
            r["unit"] = s.unit;
        if (const auto range = normal_range(s.sensor); range) {
            r["normal_low"] = range->low;
            r["normal_high"] = range->high;
        }
        r["score"] = coarse ? std::round(s.score * 10.0) / 10.0 : rounded(s.score);
        r["reasons"] = s.reasons;
        readings.push_back(std::move(r));
    }
    f["readings"] = std::move(readings);
    return f.dump();
}

std::string gemini_body(std::string_view facts, std::string_view model) {
    json schema = {
        {"type", "OBJECT"},
        {"properties",
         {{"title", {{"type", "STRING"}}},
          {"description", {{"type", "STRING"}}},
          {"suggestion", {{"type", "STRING"}}},
          {"severity", {{"type", "STRING"}, {"enum", {"LOW", "MEDIUM", "HIGH", "CRITICAL"}}}}}},
        {"required", {"title", "description", "suggestion", "severity"}},
        {"propertyOrdering", {"title", "description", "suggestion", "severity"}}};
    json config = {{"responseMimeType", "application/json"},
                   {"responseSchema", std::move(schema)},
                   {"temperature", 0.2},
                   {"maxOutputTokens", 512}};
    // Flash models think by default; a short alert needs no thinking and must come quickly.
    if (model.find("flash") != std::string_view::npos)
        config["thinkingConfig"] = {{"thinkingBudget", 0}};
    json body = {
        {"systemInstruction", {{"parts", {{{"text", kSystem}}}}}},
        {"contents",
         {{{"role", "user"}, {"parts", {{{"text", std::string(kAsk) + std::string(facts)}}}}}}},
        {"generationConfig", std::move(config)}};
    return body.dump();
}

std::string openai_body(std::string_view facts, std::string_view model) {
    json body = {{"model", model},
                 {"messages",
                  {{{"role", "system"}, {"content", kSystem}},
                   {{"role", "user"}, {"content", std::string(kAsk) + std::string(facts)}}}},
                 {"response_format", {{"type", "json_object"}}},
                 {"temperature", 0.2},
                 {"max_tokens", 512},
                 {"stream", false}};
    return body.dump();
}

std::string_view failure_name(Failure f) noexcept {
    switch (f) {
    case Failure::none:
        return "none";
    case Failure::bad_request:
        return "bad-request";
    case Failure::auth:
        return "auth";
    case Failure::rate_limited:
        return "rate-limited";
    case Failure::server:
        return "server";
    case Failure::timeout:
        return "timeout";
    case Failure::network:
        return "network";
    case Failure::malformed:
        return "malformed";
    case Failure::blocked:
        return "blocked";
    case Failure::invalid:
        return "invalid";
    }
    return "none";
}

bool retryable(Failure f) noexcept {
    return f == Failure::rate_limited || f == Failure::server || f == Failure::timeout ||
           f == Failure::network;
}

Failure classify_status(long s) noexcept {
    if (s >= 200 && s < 300)
        return Failure::none;
    if (s == 401 || s == 403)
        return Failure::auth;
    if (s == 429)
        return Failure::rate_limited;
    if (s == 408)
        return Failure::timeout;
    if (s >= 500)
        return Failure::server;
    return Failure::bad_request;
}

namespace {

ParseResult fail(Failure f, std::string detail) {
    ParseResult r;
    r.failure = f;
    r.detail = std::move(detail);
    return r;
}

std::size_t code_points(std::string_view s) {
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string clean(std::string s) {
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
            c = ' ';
    const auto b = s.find_first_not_of(' ');
    const auto e = s.find_last_not_of(' ');
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Some local models wrap JSON in a Markdown fence although asked not to.
std::string_view strip_fence(std::string_view t) {
    const auto b = t.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos)
        return t;
    t.remove_prefix(b);
    if (t.substr(0, 3) == "```") {
        const auto nl = t.find('\n');
        const auto end = t.rfind("```");
        if (nl != std::string_view::npos && end != std::string_view::npos && end > nl)
            return t.substr(nl + 1, end - nl - 1);
    }
    return t;
}

} // namespace

ParseResult validate_answer(std::string_view json_text) {
    const json j = json::parse(strip_fence(json_text), nullptr, false);
    if (j.is_discarded())
        return fail(Failure::malformed, "the model's text is not JSON");
    if (!j.is_object())
        return fail(Failure::invalid, "the model's answer is not a JSON object");
    Answer a;
    const auto field = [&](const char* name, std::size_t max, std::string& out) -> std::string {
        const auto it = j.find(name);
        if (it == j.end())
            return std::string("missing field \"") + name + "\"";
        if (!it->is_string())
            return std::string(name) + ": not a string";
        out = clean(it->get<std::string>());
        if (out.empty())
            return std::string(name) + ": empty";
        if (code_points(out) > max)
            return std::string(name) + ": longer than " + std::to_string(max) + " characters";
        return {};
    };
    for (const auto& [name, max, out] :
         {std::tuple{"title", kMaxTitle, &a.text.title},
          std::tuple{"description", kMaxDescription, &a.text.description},
          std::tuple{"suggestion", kMaxSuggestion, &a.text.suggestion}}) {
        if (auto err = field(name, max, *out); !err.empty())
            return fail(Failure::invalid, err);
    }
    if (const auto it = j.find("severity"); it != j.end() && it->is_string())
        a.severity = parse_severity(it->get<std::string>());
    ParseResult r;
    r.answer = std::move(a);
    return r;
}

ParseResult parse_gemini(std::string_view body) {
    const json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return fail(Failure::malformed, "answer is not JSON");
    const auto cands = j.find("candidates");
    const bool none = cands == j.end() || !cands->is_array() || cands->empty();
    if (const auto pf = j.find("promptFeedback"); pf != j.end() && pf->is_object()) {
        if (const auto br = pf->find("blockReason"); br != pf->end() && none)
            return fail(Failure::blocked, "prompt blocked: " + br->dump());
    }
    if (none)
        return fail(Failure::malformed, "no candidates in the answer");
    const json& c = (*cands)[0];
    if (!c.is_object())
        return fail(Failure::malformed, "candidate is not an object");
    // Fields of another JSON type than documented are ignored, never an exception.
    std::string finish;
    if (const auto fr = c.find("finishReason"); fr != c.end() && fr->is_string())
        finish = fr->get<std::string>();
    std::string text;
    if (const auto content = c.find("content"); content != c.end() && content->is_object()) {
        if (const auto parts = content->find("parts"); parts != content->end() && parts->is_array())
            for (const auto& p : *parts)
                if (p.is_object() && p.contains("text") && p["text"].is_string() &&
                    !(p.contains("thought") && p["thought"].is_boolean() &&
                      p["thought"].get<bool>()))
                    text += p["text"].get<std::string>();
    }
    if (finish == "SAFETY" || finish == "RECITATION" || finish == "BLOCKLIST" ||
        finish == "PROHIBITED_CONTENT" || finish == "SPII" || finish == "IMAGE_SAFETY")
        return fail(Failure::blocked, "candidate blocked: finishReason " + finish);
    if (text.empty())
        return fail(Failure::malformed,
                    "candidate has no text" +
                        (finish.empty() ? "" : " (finishReason " + finish + ")"));
    return validate_answer(text);
}

ParseResult parse_openai(std::string_view body) {
    const json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return fail(Failure::malformed, "answer is not JSON");
    const auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array() || choices->empty() ||
        !(*choices)[0].is_object())
        return fail(Failure::malformed, "no choices in the answer");
    const json& c = (*choices)[0];
    const std::string finish = c.contains("finish_reason") && c["finish_reason"].is_string()
                                   ? c["finish_reason"].get<std::string>()
                                   : "";
    if (finish == "content_filter")
        return fail(Failure::blocked, "answer withheld: finish_reason content_filter");
    const auto msg = c.find("message");
    if (msg == c.end() || !msg->is_object())
        return fail(Failure::malformed, "choice has no message");
    if (const auto refusal = msg->find("refusal"); refusal != msg->end() && refusal->is_string())
        return fail(Failure::blocked, "the model refused");
    const auto content = msg->find("content");
    if (content == msg->end() || !content->is_string())
        return fail(Failure::malformed, "message has no content");
    return validate_answer(content->get<std::string>());
}

std::string error_message(std::string_view body) {
    const json j = json::parse(body, nullptr, false);
    std::string msg;
    if (!j.is_discarded() && j.is_object() && j.contains("error")) {
        const json& e = j["error"];
        if (e.is_object() && e.contains("message") && e["message"].is_string())
            msg = e["message"].get<std::string>();
        else if (e.is_string())
            msg = e.get<std::string>();
    }
    msg = clean(std::move(msg));
    if (msg.size() > 160) {
        msg.resize(160);
        while (!msg.empty() && (static_cast<unsigned char>(msg.back()) & 0x80) != 0)
            msg.pop_back();
        msg += "...";
    }
    return msg;
}

std::optional<core::Millis> retry_delay_from_body(std::string_view body) {
    const json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("error") || !j["error"].is_object())
        return std::nullopt;
    const json& e = j["error"];
    if (!e.contains("details") || !e["details"].is_array())
        return std::nullopt;
    for (const auto& d : e["details"]) {
        if (!d.is_object() || !d.contains("retryDelay") || !d["retryDelay"].is_string())
            continue;
        const std::string s =
            d["retryDelay"].get<std::string>(); // protobuf Duration: "22s", "1.5s"
        if (s.empty() || s.back() != 's')
            continue;
        try {
            const double secs = std::stod(s.substr(0, s.size() - 1));
            if (secs >= 0 && secs < 86400)
                return static_cast<core::Millis>(secs * 1000.0);
        } catch (const std::exception&) {
        }
    }
    return std::nullopt;
}

Alert apply_answer(const Alert& rules_alert, const Answer& answer, Provider p) {
    Alert a = rules_alert;
    a.text = answer.text;
    a.source = std::string(provider_name(p));
    if (answer.severity && *answer.severity > a.severity && a.event != EventKind::resolve)
        a.severity = *answer.severity;
    a.peak = std::max(a.peak, a.severity);
    return a;
}

} // namespace iots::alert
