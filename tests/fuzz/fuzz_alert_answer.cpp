// A language model's answer as the alert narrators read it (alert/llm): the bare JSON object, a
// Gemini body, an OpenAI-compatible body, an error body. Model text is untrusted (DESIGN §6).
// Invariants: an accepted answer has its three texts non-empty, within their lengths and free of
// control characters; the updated alert is one line of valid JSON carrying those texts exactly;
// a refusal has a failure kind; the error message kept for the log is one line.
#include "fuzz_check.hpp"
#include "iotshield/alert/llm.hpp"

#include <nlohmann/json.hpp>

#include <string>

using iots::fuzz::check;

namespace {

std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (const char c : s)
        n += (static_cast<unsigned char>(c) & 0xc0) != 0x80 ? 1 : 0;
    return n;
}

void check_text(std::string_view s, std::size_t max, const char* what) {
    check(!s.empty() && code_points(s) <= max, what, s);
    for (const char c : s)
        check(static_cast<unsigned char>(c) >= 0x20, what, s);
}

iots::alert::Alert rules_alert() {
    iots::alert::Alert a;
    a.id = "inc-1.1";
    a.ts = 1761410712345;
    a.device = "esp32-kitchen";
    a.sensor = "flame";
    a.location = "kitchen";
    a.severity = iots::alert::Severity::high;
    a.peak = a.severity;
    a.text = {"Flame in the kitchen", "The flame sensor sees a flame.", "Check the kitchen."};
    a.rules = a.text;
    a.value = 1;
    a.score = 1;
    a.incident = "inc-1";
    a.reasons = {"threshold:flame"};
    return a;
}

void check_result(const iots::alert::ParseResult& r, iots::alert::Provider p) {
    if (!r.answer) {
        check(r.failure != iots::alert::Failure::none, "no answer and no failure", r.detail);
        return;
    }
    const auto& t = r.answer->text;
    check_text(t.title, iots::alert::kMaxTitle, "answer title");
    check_text(t.description, iots::alert::kMaxDescription, "answer description");
    check_text(t.suggestion, iots::alert::kMaxSuggestion, "answer suggestion");
    const auto base = rules_alert();
    const auto updated = iots::alert::apply_answer(base, *r.answer, p);
    check(updated.severity >= base.severity, "a model lowered the severity");
    const std::string json = iots::alert::to_json(updated);
    check(json.find('\n') == std::string::npos, "alert spans lines", json);
    const auto j = nlohmann::json::parse(json, nullptr, false);
    check(!j.is_discarded() && j.is_object(), "alert is not valid JSON", json);
    check(j["title"] == t.title && j["description"] == t.description &&
              j["suggestion"] == t.suggestion,
          "alert does not carry the model's text exactly", json);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    const auto body = iots::fuzz::as_text(data, size);
    check_result(iots::alert::validate_answer(body), iots::alert::Provider::openai);
    check_result(iots::alert::parse_gemini(body), iots::alert::Provider::gemini);
    check_result(iots::alert::parse_openai(body), iots::alert::Provider::openai);
    const std::string message = iots::alert::error_message(body);
    for (const char c : message)
        check(c != '\n' && c != '\r', "error message spans lines", message);
    if (const auto delay = iots::alert::retry_delay_from_body(body))
        check(*delay >= 0, "negative retry delay", body);
    return 0;
}
