#pragma once
// The action record of DESIGN §2: what iots-act did about an incident, an alert-like record so
// that notification pipelines see it beside the alerts ({"kind":"action",...}). A view: the
// strings belong to the caller.
#include "iotshield/core/time.hpp"

#include <string>
#include <string_view>

namespace iots::record {

struct ActionRecord {
    std::string_view id; // the command's id ("dry-N" in a dry run)
    core::Millis ts = 0;
    std::string_view device; // the device the command went to
    std::string_view actuator;
    std::string_view action;
    std::string_view severity; // the alert's that set the rule off (LOW for a then clause)
    std::string_view title;
    std::string_view description;
    std::string_view incident; // the incident and the alert it answers (empty: none)
    std::string_view alert;
    std::string_view location;
    std::string_view rule;   // FILE:LINE
    std::string_view event;  // open | raise | resolve: what set the rule (or its then clause) off
    int attempt = 1;         // 1, then 2... for each retry
    std::string_view status; // sent | done | failed | unconfirmed | dry-run
};

// {"kind":"action","id","ts","device","actuator","action","severity","title","description",
// "incident","alert","location" (when not empty),"rule","event","command","attempt","status"}
[[nodiscard]] std::string action_json(const ActionRecord& a);

} // namespace iots::record
