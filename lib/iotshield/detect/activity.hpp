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

#include <array>
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

// From sorted, in-order training readings of one event series (members of a group one after
// another; `member_end` ends each), bucketed in `zone`. Buckets with no readings take the largest
// level of the others.
[[nodiscard]] ActivityProfile build_activity(const std::vector<core::Millis>& ts,
                                             const std::vector<double>& values,
                                             const std::vector<std::size_t>& member_end,
                                             const core::Zone& zone);

} // namespace iots::detect
