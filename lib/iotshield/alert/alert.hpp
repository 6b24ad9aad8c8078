#pragma once
// The alert record of DESIGN §2, built from an incident event. The rules text is always kept beside
// the text shown, so a language-model update can be compared with (and fall back to) it.
#include "iotshield/alert/incident.hpp"
#include "iotshield/alert/severity.hpp"

#include <optional>
#include <string>
#include <vector>

namespace iots::alert {

struct Text {
    std::string title;
    std::string description;
    std::string suggestion;
};

struct Alert {
    std::string id;
    core::Millis ts = 0;
    std::string device;
    std::string sensor;
    std::string location;
    Severity severity = Severity::low;
    Text text;  // what is shown
    Text rules; // the rules narrator's text
    std::optional<double> value;
    std::optional<double> score;
    std::string incident;
    std::string source = "rules"; // rules | gemini | openai
    EventKind event = EventKind::open;
    Severity peak = Severity::low; // the incident's severity (a resolve alert itself is LOW)
    std::vector<std::string> reasons;
    std::string pattern; // rules.hpp's pattern_name(): fire, gas-leak, intrusion, heat...
};

// A resolve alert is LOW: it must not set off a siren a second time; its "peak" keeps the worst.
[[nodiscard]] Alert make_alert(const Event& e, Text rules_text);

// The alert record (record/alert.hpp's alert_json) of this alert.
[[nodiscard]] std::string to_json(const Alert& a);

} // namespace iots::alert
