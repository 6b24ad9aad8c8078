// What leaves the home (privacy), the request bodies, and reading every documented answer shape.
#define BOOST_TEST_MODULE alert_llm
#include "iotshield/alert/llm.hpp"
#include "iotshield/alert/narrator.hpp"
#include "iotshield/alert/rules.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

using namespace iots;
using namespace iots::alert;
using nlohmann::json;

namespace {
constexpr core::Millis kT0 = 1761410712345;

Event fire_event() {
    TrackerOptions o;
    o.wall_clock = false;
    IncidentTracker t(o);
    std::vector<Event> ev;
    record::Reading r;
    r.ts = kT0;
    r.device = "esp32-secret-device";
    r.sensor = "temperature";
    r.value = 45.5; // MEDIUM: the flame then raises it to CRITICAL
    r.seq = 424242;
    r.location = "kitchen";
    r.anomaly = true;
    r.score = 0.8;
    r.reasons = {"zscore"};
    t.observe(r, 0, ev);
    r.ts = kT0 + 3 * 60000;
    r.sensor = "flame";
    r.value = 1;
    r.reasons = {"threshold:flame"};
    t.observe(r, 0, ev);
    return ev.back();
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}
} // namespace

BOOST_AUTO_TEST_CASE(facts_hold_the_minimum_and_nothing_else) {
    const Event e = fire_event();
    const std::string facts = facts_json(e, SeverityPolicy{});
    const json f = json::parse(facts);
    BOOST_TEST(f["room"] == "kitchen");
    BOOST_TEST(f["severity"] == "CRITICAL");
    BOOST_TEST(f["pattern"] == "fire");
    BOOST_TEST(f["duration_minutes"] == 3);
    BOOST_REQUIRE(f["readings"].size() == 2u);
    BOOST_TEST(f["readings"][0]["sensor"] == "temperature");
    BOOST_TEST(f["readings"][0]["value"] == 45.5);
    BOOST_TEST(f["readings"][0]["normal_low"] == 16.0);
    BOOST_TEST(f["readings"][0]["normal_high"] == 28.0);
    BOOST_TEST(f["readings"][0]["score"] == 0.8);
    BOOST_TEST(f["event"] == "raise");
    // Never the device id, a timestamp (ms or RFC 3339), the sequence number.
    for (const auto& body :
         {facts, gemini_body(facts, "gemini-2.5-flash"), openai_body(facts, "llama3.2")}) {
        BOOST_TEST(!contains(body, "esp32-secret-device"));
        BOOST_TEST(!contains(body, "secret"));
        BOOST_TEST(!contains(body, "1761410712"));
        BOOST_TEST(!contains(body, "2025-10-25"));
        BOOST_TEST(!contains(body, "424242"));
        BOOST_TEST(contains(body, "kitchen"));
    }
}

BOOST_AUTO_TEST_CASE(coarse_facts_keep_no_exact_value_score_or_duration) {
    const Event e = fire_event(); // temperature 45.5 scored 0.8, then flame 1, 3 minutes apart
    const std::string facts = facts_json(e, SeverityPolicy{}, Detail::coarse);
    const json f = json::parse(facts);
    BOOST_TEST(f["room"] == "kitchen");
    BOOST_TEST(f["duration_minutes"] == 5);        // 3 minutes to the nearest 5
    BOOST_TEST(f["readings"][0]["value"] == 46.0); // 45.5 to 1 C (half away from zero)
    BOOST_TEST(f["readings"][0]["score"] == 0.8);
    BOOST_TEST(f["readings"][1]["value"] == 1.0); // flame: 0/1 as it is
    BOOST_TEST(!contains(facts, "45.5"));
    BOOST_TEST(!contains(facts, "esp32-secret-device"));
    BOOST_TEST(!contains(facts, "424242"));
}

BOOST_AUTO_TEST_CASE(coarse_values_are_rounded_to_their_sensors_step) {
    BOOST_TEST(coarse_value("temperature", 21.4) == 21.0);
    BOOST_TEST(coarse_value("temperature", -3.6) == -4.0);
    BOOST_TEST(coarse_value("humidity", 47.4) == 45.0); // 9.48 fives -> 9
    BOOST_TEST(coarse_value("gas", 1612.5) == 1600.0);  // 32.25 fifties -> 32
    BOOST_TEST(coarse_value("light", 26.0) == 50.0);    // 0.52 -> 1
    BOOST_TEST(coarse_value("motion", 1.0) == 1.0);
    BOOST_TEST(coarse_value("flame", 0.0) == 0.0);
    // Any other kind: two significant digits.
    BOOST_TEST(coarse_value("co2", 1234.0) == 1200.0);
    BOOST_TEST(coarse_value("power", 0.0347) == 0.035);
    BOOST_TEST(json(coarse_value("power", 0.0347)).dump() == "0.035");
    BOOST_TEST(coarse_value("power", 0.0) == 0.0);
}

BOOST_AUTO_TEST_CASE(loopback_urls_are_on_the_box_and_nothing_else_is) {
    for (const char* url :
         {"http://127.0.0.1:11434/v1", "http://localhost:8080/v1", "http://[::1]:8080/v1",
          "http://127.1.2.3/v1", "https://u:p@127.0.0.1/"})
        BOOST_TEST(loopback_url(url), url);
    for (const char* url :
         {"https://generativelanguage.googleapis.com", "http://192.168.1.5:11434/v1",
          "http://127.0.0.1.example.com/v1", "http://localhost.example.com/", "127.0.0.1:8080",
          "http://[::1/v1", "http://10.0.0.1/127.0.0.1"})
        BOOST_TEST(!loopback_url(url), url);
}

BOOST_AUTO_TEST_CASE(gemini_request_is_generate_content_with_a_response_schema) {
    NarratorOptions o;
    o.provider = Provider::gemini;
    o.model = "gemini-2.5-flash";
    o.url = "https://generativelanguage.googleapis.com/";
    o.api_key = "AIzaTESTKEY";
    const Request req = build_request(o, R"({"x":1})");
    BOOST_TEST(req.url == "https://generativelanguage.googleapis.com/v1beta/models/"
                          "gemini-2.5-flash:generateContent");
    BOOST_TEST(!contains(req.url, "AIzaTESTKEY"));
    BOOST_TEST(!contains(req.body, "AIzaTESTKEY"));
    BOOST_TEST((std::find(req.headers.begin(), req.headers.end(), "x-goog-api-key: AIzaTESTKEY") !=
                req.headers.end()));
    const json b = json::parse(req.body);
    BOOST_TEST(b["contents"][0]["role"] == "user");
    BOOST_TEST(contains(b["contents"][0]["parts"][0]["text"].get<std::string>(), R"({"x":1})"));
    BOOST_TEST(b["systemInstruction"]["parts"][0]["text"].is_string());
    const json& g = b["generationConfig"];
    BOOST_TEST(g["responseMimeType"] == "application/json");
    BOOST_TEST(g["responseSchema"]["type"] == "OBJECT");
    BOOST_TEST(g["responseSchema"]["required"].size() == 4u);
    BOOST_TEST(g["thinkingConfig"]["thinkingBudget"] == 0);
    BOOST_TEST(!json::parse(gemini_body("{}", "gemini-2.5-pro"))["generationConfig"].contains(
        "thinkingConfig")); // Pro cannot turn thinking off
}

BOOST_AUTO_TEST_CASE(openai_request_is_chat_completions_json_mode) {
    NarratorOptions o;
    o.provider = Provider::openai;
    o.model = "llama3.2";
    o.url = "http://127.0.0.1:11434/v1";
    const Request req = build_request(o, "{}");
    BOOST_TEST(req.url == "http://127.0.0.1:11434/v1/chat/completions");
    BOOST_TEST(req.headers.size() == 1u); // no key: no Authorization header
    const json b = json::parse(req.body);
    BOOST_TEST(b["model"] == "llama3.2");
    BOOST_TEST(b["messages"][0]["role"] == "system");
    BOOST_TEST(b["messages"][1]["role"] == "user");
    BOOST_TEST(b["response_format"]["type"] == "json_object");
    BOOST_TEST(b["stream"] == false);
    o.api_key = "sk-test";
    BOOST_TEST(build_request(o, "{}").headers.back() == "Authorization: Bearer sk-test");
}

BOOST_AUTO_TEST_CASE(gemini_answers) {
    const std::string ok =
        R"({"candidates":[{"content":{"parts":[{"text":"{\"title\":\"Fire in the kitchen\",\"description\":\"A flame.\",\"suggestion\":\"Leave now.\",\"severity\":\"CRITICAL\"}"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":10},"modelVersion":"gemini-2.5-flash"})";
    const auto r = parse_gemini(ok);
    BOOST_REQUIRE(r.answer);
    BOOST_TEST(r.answer->text.title == "Fire in the kitchen");
    BOOST_TEST((r.answer->severity == Severity::critical));

    const auto blocked = parse_gemini(
        R"({"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},"usageMetadata":{}})");
    BOOST_TEST((blocked.failure == Failure::blocked));
    const auto cand_safety = parse_gemini(
        R"({"candidates":[{"finishReason":"SAFETY","index":0,"safetyRatings":[{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH"}]}]})");
    BOOST_TEST((cand_safety.failure == Failure::blocked));
    BOOST_TEST((parse_gemini("{not json").failure == Failure::malformed));
    BOOST_TEST((parse_gemini(R"({"candidates":[]})").failure == Failure::malformed));
    BOOST_TEST((
        parse_gemini(
            R"({"candidates":[{"content":{"parts":[{"text":"Sure! Here"}]},"finishReason":"MAX_TOKENS"}]})")
            .failure == Failure::malformed));
}

// Found by fuzz_alert_answer: a finishReason or thought of another JSON type threw
// nlohmann's type_error out of the parser instead of answering "malformed" or ignoring it.
BOOST_AUTO_TEST_CASE(gemini_answer_fields_of_another_type_are_not_an_exception) {
    const std::string text =
        R"("text":"{\"title\":\"Fire\",\"description\":\"A flame.\",\"suggestion\":\"Leave.\",\"severity\":\"HIGH\"}")";
    const auto numeric_finish = parse_gemini(R"({"candidates":[{"content":{"parts":[{)" + text +
                                             R"(}]},"finishReason":0}]})");
    BOOST_REQUIRE(numeric_finish.answer);
    BOOST_TEST(numeric_finish.answer->text.title == "Fire");
    const auto odd_thought = parse_gemini(R"({"candidates":[{"content":{"parts":[{)" + text +
                                          R"(,"thought":"yes"}]},"finishReason":"STOP"}]})");
    BOOST_REQUIRE(odd_thought.answer);
    BOOST_TEST(
        (parse_gemini(R"({"candidates":[{"finishReason":[1]}]})").failure == Failure::malformed));
}

BOOST_AUTO_TEST_CASE(openai_answers) {
    const std::string ok =
        R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"llama3.2","choices":[{"index":0,"message":{"role":"assistant","content":"```json\n{\"title\":\"T\",\"description\":\"D\",\"suggestion\":\"S\"}\n```"},"finish_reason":"stop"}]})";
    const auto r = parse_openai(ok);
    BOOST_REQUIRE(r.answer); // a Markdown fence from a small local model is tolerated
    BOOST_TEST(!r.answer->severity);
    BOOST_TEST((
        parse_openai(
            R"({"choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"content_filter"}]})")
            .failure == Failure::blocked));
    BOOST_TEST((
        parse_openai(
            R"({"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"no"},"finish_reason":"stop"}]})")
            .failure == Failure::blocked));
    BOOST_TEST((parse_openai(R"({"choices":[]})").failure == Failure::malformed));
}

BOOST_AUTO_TEST_CASE(answer_validation) {
    BOOST_TEST((validate_answer(R"({"title":"T","description":"D"})").failure == Failure::invalid));
    BOOST_TEST((validate_answer(R"({"title":"","description":"D","suggestion":"S"})").failure ==
                Failure::invalid));
    BOOST_TEST((validate_answer(R"({"title":5,"description":"D","suggestion":"S"})").failure ==
                Failure::invalid));
    const std::string long_title(81, 'x');
    BOOST_TEST(
        (validate_answer(R"({"title":")" + long_title + R"(","description":"D","suggestion":"S"})")
             .failure == Failure::invalid));
    // 80 characters of two bytes each are still 80 characters.
    std::string accents;
    for (int i = 0; i < 80; ++i)
        accents += "é";
    BOOST_TEST(
        !!validate_answer(R"({"title":")" + accents + R"(","description":"D","suggestion":"S"})")
              .answer);
    const auto cleaned =
        validate_answer(R"({"title":"a\u0007b\n","description":"D","suggestion":"S"})");
    BOOST_REQUIRE(cleaned.answer);
    BOOST_TEST(cleaned.answer->text.title == "a b");
    BOOST_TEST((validate_answer("[1,2]").failure == Failure::invalid));
}

BOOST_AUTO_TEST_CASE(the_model_may_raise_but_never_lower_severity) {
    Alert rules;
    rules.severity = Severity::high;
    rules.peak = Severity::high;
    Answer lower{{"t", "d", "s"}, Severity::low};
    BOOST_TEST((apply_answer(rules, lower, Provider::gemini).severity == Severity::high));
    Answer higher{{"t", "d", "s"}, Severity::critical};
    const Alert up = apply_answer(rules, higher, Provider::openai);
    BOOST_TEST((up.severity == Severity::critical));
    BOOST_TEST(up.source == "openai");
    BOOST_TEST(up.text.title == "t");
}

BOOST_AUTO_TEST_CASE(status_codes_and_retry_info) {
    BOOST_TEST((classify_status(200) == Failure::none));
    BOOST_TEST((classify_status(400) == Failure::bad_request));
    BOOST_TEST((classify_status(401) == Failure::auth));
    BOOST_TEST((classify_status(403) == Failure::auth));
    BOOST_TEST((classify_status(429) == Failure::rate_limited));
    BOOST_TEST((classify_status(503) == Failure::server));
    BOOST_TEST(retryable(Failure::rate_limited));
    BOOST_TEST(!retryable(Failure::auth));
    BOOST_TEST(!retryable(Failure::blocked));
    const std::string e429 =
        R"({"error":{"code":429,"message":"Resource exhausted.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}})";
    BOOST_TEST(retry_delay_from_body(e429).value_or(0) == 1500);
    BOOST_TEST(error_message(e429) == "Resource exhausted.");
    BOOST_TEST(!retry_delay_from_body("{}"));
}
