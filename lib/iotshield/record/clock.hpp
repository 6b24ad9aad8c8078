#pragma once
// Whether a reading's ts can be believed (DESIGN §2, Clocks): a ts before 2000-01-01 is a node
// whose clock never synced, one further ahead of the receiving host's clock than the allowed skew
// is a broken clock. Such a reading is rejected with a reason, or stamped with the time of
// receipt when asked. Pure: the host's clock is an argument.
#include "iotshield/core/time.hpp"
#include "iotshield/record/reading.hpp"

#include <string>

namespace iots::record {

inline constexpr core::Millis kEarliestTs = 946684800000; // 2000-01-01T00:00:00Z
inline constexpr core::Millis kDefaultMaxSkew = 86400000; // 1 day

struct ClockPolicy {
    core::Millis max_skew = kDefaultMaxSkew; // how far ahead of the host's clock a ts may be
    bool stamp = false;                      // stamp a wrong clock's reading instead of rejecting
};

enum class ClockAction { accept, reject, stamp };

struct ClockVerdict {
    ClockAction action = ClockAction::accept;
    // reject and stamp: why the ts is not believed, e.g. `ts: 1969-12-31T23:59:59.995Z is before
    // 2000-01-01 (the node's clock is not set)`. Empty (no allocation) on accept.
    std::string reason;
};

// ts is accepted from 2000-01-01T00:00:00.000Z up to now + max_skew, both included; now is the
// receiving host's wall clock.
[[nodiscard]] ClockVerdict judge_clock(core::Millis ts, core::Millis now,
                                       const ClockPolicy& policy);

// Stamps r on receipt: the node's ts goes to a passed-through member "node_ts" (RFC 3339),
// "clock":"stamped" marks it, and ts becomes now. Returns why it cannot (the record already has a
// member of one of those names), empty when stamped.
[[nodiscard]] std::string stamp_on_receipt(Reading& r, core::Millis now);

// Stamps a reading that came without ts (ts == kMissingTs) with the time of receipt, marked
// "clock":"stamped" (no "node_ts": the node had no time). Returns why it cannot (the record
// already has a member "clock"), empty when stamped.
[[nodiscard]] std::string stamp_missing_ts(Reading& r, core::Millis now);

} // namespace iots::record
