#pragma once
// What is sent to a language model and how its answer is read, for Gemini's generateContent and the
// OpenAI chat-completions API. Pure functions: the HTTP exchange is in http.hpp, the retry policy
// in narrator.hpp. Privacy (DESIGN §6): the facts hold sensor kinds, values, units, normal ranges,
// scores, reason codes, the room label, the severity and a rounded duration; never the device id,
// a timestamp, the history of readings or a credential.
#include "iotshield/alert/alert.hpp"
#include "iotshield/alert/incident.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace iots::alert {

enum class Provider { gemini, openai };
[[nodiscard]] std::string_view provider_name(Provider p) noexcept; // "gemini" | "openai"

// How much of a value and a duration the facts keep: exact (to 0.001) for a model on this host,
// coarsened for one off the box (Gemini, or a server that is not on loopback).
enum class Detail { exact, coarse };

// The facts of one alert, as compact JSON (the user message carries exactly this). Coarse: each
// value rounded to its sensor's step (coarse_value), the score to 0.1, the duration to 5 minutes.
[[nodiscard]] std::string facts_json(const Event& e, const SeverityPolicy& policy,
                                     Detail detail = Detail::exact);
// A value rounded to a step that says what matters to a person and no more: temperature 1 C,
// humidity 5 %, gas 50 ppm, light 50 lux, 0/1 channels as they are, any other kind to two
// significant digits.
[[nodiscard]] double coarse_value(std::string_view sensor, double value) noexcept;
// Whether a base URL's host is this machine (127.0.0.0/8, ::1, localhost): a model there is on the
// box; any other host, or a URL that cannot be read, is not.
[[nodiscard]] bool loopback_url(std::string_view url) noexcept;

[[nodiscard]] std::string gemini_body(std::string_view facts, std::string_view model);
[[nodiscard]] std::string openai_body(std::string_view facts, std::string_view model);

// Why a request gave no usable text; each is counted and ends in the rules text.
enum class Failure {
    none,
    bad_request, // 400, 404: our request or the model name is wrong; not retried
    auth,        // 401, 403: key missing, wrong or without permission; not retried
    rate_limited,
    server,    // 5xx
    timeout,   // no complete answer within --llm-timeout
    network,   // connection refused, DNS, TLS
    malformed, // not the documented JSON
    blocked,   // safety filter: promptFeedback.blockReason, finishReason SAFETY, content_filter
    invalid,   // JSON, but fields missing, empty or too long
};
[[nodiscard]] std::string_view failure_name(Failure f) noexcept;
[[nodiscard]] bool retryable(Failure f) noexcept;
[[nodiscard]] Failure classify_status(long http_status) noexcept; // 2xx: none

struct Answer {
    Text text;
    std::optional<Severity> severity;
};

struct ParseResult {
    std::optional<Answer> answer;
    Failure failure = Failure::none;
    std::string detail; // for the log line: never the model's text, never a key
};

inline constexpr std::size_t kMaxTitle = 80; // characters (code points)
inline constexpr std::size_t kMaxDescription = 600;
inline constexpr std::size_t kMaxSuggestion = 400;

// The model's JSON object {title, description, suggestion, severity?}: every field present, a
// non-empty string within its length; control characters become spaces.
[[nodiscard]] ParseResult validate_answer(std::string_view json_text);
[[nodiscard]] ParseResult parse_gemini(std::string_view body);
[[nodiscard]] ParseResult parse_openai(std::string_view body);

// The error message of an error body ({"error":{"message":...}}), shortened, for the log.
[[nodiscard]] std::string error_message(std::string_view body);
// Gemini's RetryInfo in an error body: {"error":{"details":[{"@type":"...RetryInfo",
// "retryDelay":"22s"}]}} -> 22000.
[[nodiscard]] std::optional<core::Millis> retry_delay_from_body(std::string_view body);

// The update of a rules alert with a model's answer: the severity never drops below the rules'.
[[nodiscard]] Alert apply_answer(const Alert& rules_alert, const Answer& answer, Provider p);

} // namespace iots::alert
