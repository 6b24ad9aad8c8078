#pragma once
// A reading (DESIGN §2), and the scored reading that detection adds to it.
#include "iotshield/core/time.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace iots::record {

// The ts of a reading that came without one (a node whose clock has not synced yet), when the
// parser is asked to allow it (ParseOptions::allow_missing_ts): the receiver stamps it.
inline constexpr core::Millis kMissingTs = std::numeric_limits<core::Millis>::min();

struct Reading {
    core::Millis ts = 0;
    std::string device;
    std::string sensor;
    double value = 0;
    std::optional<std::int64_t> seq;
    std::string unit;     // empty: absent
    std::string location; // empty: absent
    std::string label;    // empty: absent (only iots-sim writes it)

    // Set by detection (a scored reading).
    std::optional<double> score;
    std::optional<bool> anomaly;
    std::vector<std::string> reasons;

    // Members we do not know, as raw JSON `"key":value` joined by commas, passed through unchanged.
    std::string extra;

    void clear() noexcept;
    // Member-wise: the same record (extra compared as text).
    bool operator==(const Reading&) const = default;
};

} // namespace iots::record
