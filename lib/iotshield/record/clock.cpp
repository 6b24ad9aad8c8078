#include "iotshield/record/clock.hpp"

#include "iotshield/core/duration.hpp"
#include "iotshield/record/serialize.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace iots::record {

ClockVerdict judge_clock(core::Millis ts, core::Millis now, const ClockPolicy& policy) {
    ClockVerdict v;
    if (ts < kEarliestTs)
        v.reason = fmt::format("ts: {} is before 2000-01-01 (the node's clock is not set)",
                               core::format_rfc3339(ts));
    else if (ts - now > policy.max_skew)
        v.reason = fmt::format("ts: {} is more than {} ahead of this host's clock",
                               core::format_rfc3339(ts), core::format_duration(policy.max_skew));
    else
        return v;
    v.action = policy.stamp ? ClockAction::stamp : ClockAction::reject;
    return v;
}

std::string stamp_on_receipt(Reading& r, core::Millis now) {
    if (!r.extra.empty()) {
        const auto members = nlohmann::json::parse("{" + r.extra + "}", nullptr, false);
        if (members.is_discarded() || !members.is_object())
            return "not stamped: its other members are not a JSON object";
        for (const char* key : {"node_ts", "clock"})
            if (members.contains(key))
                return fmt::format("not stamped: it already has \"{}\"", key);
    }
    if (!r.extra.empty())
        r.extra.push_back(',');
    r.extra += "\"clock\":\"stamped\",\"node_ts\":";
    append_json_string(core::format_rfc3339(r.ts), r.extra);
    r.ts = now;
    return {};
}

std::string stamp_missing_ts(Reading& r, core::Millis now) {
    if (!r.extra.empty()) {
        const auto members = nlohmann::json::parse("{" + r.extra + "}", nullptr, false);
        if (members.is_discarded() || !members.is_object())
            return "not stamped: its other members are not a JSON object";
        if (members.contains("clock"))
            return "not stamped: it already has \"clock\"";
        r.extra.push_back(',');
    }
    r.extra += "\"clock\":\"stamped\"";
    r.ts = now;
    return {};
}

} // namespace iots::record
