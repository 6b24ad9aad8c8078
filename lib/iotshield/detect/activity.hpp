#pragma once
// The activity layer of an event series (a PIR, a door contact: readings of 0 and 1): how many
// events the series has had lately, against the most it has ever had at this time of day in
// training. Intrusion, a tenant's fall or a pet shut in look like this in a real home: a room busy
// for longer or harder than it ever is at that hour, or busy at all at an hour it is always quiet.
//
// The statistic is an exponentially decaying event count with a time constant of kActivityTauMs,
// weighted by the time since the previous reading, so sensors that report only on change and
// periodic ones alike count events per time. A room's occupancy is a mixture (nobody there: no
// events; somebody there: events at the occupant's rate), which is why the level is the largest
// count seen per hour of the home's day and not a rate: a mean rate per hour (the profile's
// Bernoulli test) is fooled by every normal stretch of occupancy. The hour's level is the maximum
// over that hour and its two neighbours of the same day type (schedules shift from day to day),
// times a margin, plus a floor of two events (two stray triggers of a PIR at night are not an
// alarm).
#include "iotshield/core/time.hpp"
#include "iotshield/detect/profile.hpp"
#include "iotshield/detect/raw_state.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace iots::detect {

inline constexpr double kActivityTauMs = 300'000.0; // five minutes

struct ActivityProfile {
    std::array<float, kBuckets> limit{}; // per profile bucket; all 0: no activity layer

    [[nodiscard]] bool empty() const noexcept { return !(limit[0] > 0); }
};

class ActivityState {
public:
    static constexpr std::uint32_t kStateVersion = 1; // state file layer (state_file.hpp)

    // The decayed event count after this in-order reading.
    double observe(core::Millis ts, double value) noexcept;
    [[nodiscard]] bool state_valid() const noexcept {
        return valid_bool(m_started) && valid_time(m_last);
    }

private:
    double m_count = 0;
    core::Millis m_last = 0;
    bool m_started = false;
};

// The decayed count over the level of the bucket of local wall time `local`: 1 at the level.
[[nodiscard]] inline double activity_ratio(const ActivityProfile& p, double count,
                                           core::Millis local) noexcept {
    return count / static_cast<double>(p.limit[profile_bucket(local)]);
}

// The activity layer learnt online, for a motion sensor judged without a model's activity
// profile: the largest decayed count (ActivityState) seen in each profile bucket, learnt an hour
// of the home's clock at a time, against which the count is judged as build_activity's levels
// are (the bucket and its two neighbours of the same day type, plus the same floor of two events)
// but with a margin of 1.5 instead of 1.2, as no tail calibrated on a training set judges it. An
// hour joins its bucket when it ends, so a burst is judged against the hours before it and never
// raises its own level; readings of an activity event are not learnt. A bucket judges once it has
// learnt kMinHours hours (three days at that hour); the levels never decay (what a home did at that
// hour, it may do again).
class LearntActivity {
public:
    static constexpr std::uint32_t kStateVersion = 1; // state file layer (state_file.hpp)
    static constexpr std::uint8_t kMinHours = 3;

    // The decayed count over the level of the bucket of local wall time `local` (1 at the level),
    // or 0 while the bucket has not learnt kMinHours hours. The hour before `local`, if it ended,
    // joins its bucket first.
    double ratio(double count, core::Millis local) noexcept;
    // The reading just judged was normal: its count is part of its hour's largest.
    void learn(double count) noexcept {
        m_hour_max = std::max(m_hour_max, static_cast<float>(count));
    }
    [[nodiscard]] bool state_valid() const noexcept {
        return m_hour >= -1 && m_hour <= (std::int64_t{1} << 53) / 3'600'000;
    }

private:
    std::array<float, kBuckets> m_peak{};         // largest count of a learnt hour, per bucket
    std::array<std::uint8_t, kBuckets> m_hours{}; // hours learnt per bucket (at most 255)
    float m_hour_max = 0;                         // largest normal count of the hour m_hour
    std::int64_t m_hour = -1;                     // local hour being learnt (local / 1 h), -1 none
};

// From sorted, in-order training readings of one event series (members of a group one after
// another; `member_end` ends each), bucketed in `zone`. Buckets with no readings take the largest
// level of the others.
[[nodiscard]] ActivityProfile build_activity(const std::vector<core::Millis>& ts,
                                             const std::vector<double>& values,
                                             const std::vector<std::size_t>& member_end,
                                             const core::Zone& zone);

} // namespace iots::detect
