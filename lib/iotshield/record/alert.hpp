#pragma once
// The alert record of DESIGN §2 as it is written to stdout, MQTT (<prefix>/alerts/<device>) and
// the alerts table's json column. A view: the strings belong to the caller (alert/alert.hpp
// builds one from an incident event).
#include "iotshield/core/time.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace iots::record {

struct AlertText {
    std::string_view title;
    std::string_view description;
    std::string_view suggestion;
};

struct AlertRecord {
    std::string_view id;
    core::Millis ts = 0;
    std::string_view device;
    std::string_view sensor;
    std::string_view severity; // LOW | MEDIUM | HIGH | CRITICAL
    AlertText text;            // what is shown
    std::optional<double> value;
    std::optional<double> score;
    std::string_view incident;
    std::string_view source; // rules | gemini | openai
    std::string_view event;  // open | raise | resolve
    std::string_view location;
    std::string_view peak; // the incident's severity
    std::string_view
        pattern; // what the incident looks like: fire, gas-leak... (empty: not written)
    std::span<const std::string> reasons;
    AlertText rules; // the rules narrator's text, written when source is not "rules"
};

// {"kind":"alert","id",...,"source",...}: DESIGN §2 keys first, then event, location (when not
// empty), peak, pattern (when not empty), reasons, and "rules":{...} when the shown text is not the
// rules text.
[[nodiscard]] std::string alert_json(const AlertRecord& a);

} // namespace iots::record
