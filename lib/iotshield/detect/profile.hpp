#pragma once
// The time-of-day profile of one series, learnt at training time and stored in the model: per
// hour of the home's day (local time in its zone, core/zone.hpp), weekdays and weekends apart, a
// robust centre and spread (numeric series) or an event rate (binary series such as motion).
// Detection follows a CUSUM of the deviation from what this hour normally looks like, so a slow
// drift (a failed heating) or activity at an hour when the series is normally quiet (motion while
// the household is away) builds up evidence until it crosses the level calibrated on the training
// data, and the onset is flagged once.
//
// Numeric: expected value = a slow level (EWMA with a one-day time constant of the reading minus
// its hour's offset, winsorised at 3 spreads, so drift and level shifts are followed within a day
// or two) + the hour's offset from the series' median (daily seasonality). u = clip((x -
// expected) / spread_b, -8, 8), spread_b the robust spread of the training residuals in that
// bucket; the statistic is |EWMA of u| with a one-hour time constant. Both EWMAs weight each
// reading by the time since the previous one, so irregular sampling and gaps count as time.
// Binary: the Bernoulli log-likelihood ratio of rate p1 = min(0.95, max(4 p0, 0.5)) against the
// bucket's rate p0, summed over the last kRateWindow readings (a windowed version of the
// Bernoulli CUSUM, Reynolds & Stoumbos 1999): bounded, so normal busy stretches cannot pile up.
#include "iotshield/core/time.hpp"
#include "iotshield/core/zone.hpp"
#include "iotshield/detect/raw_state.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace iots::detect {

inline constexpr std::size_t kBuckets = 48;    // 24 hours x {Monday-Friday, Saturday-Sunday}
inline constexpr std::size_t kRateWindow = 24; // readings (two minutes at 5 s)

// Bucket of a local wall time (core::Zone::local): its hour, +24 on Saturdays and Sundays.
[[nodiscard]] std::size_t profile_bucket(core::Millis local) noexcept;

struct Profile {
    bool binary = false;
    double interval_ms = 5000; // typical sampling interval in training
    double limit = 0;          // CUSUM level of an anomaly; 0: no profile (too little training)
    double median = 0;         // numeric: the series' median (the slow level's start)
    std::array<float, kBuckets> centre{}; // offset of the hour from the median, or event rate
    std::array<float, kBuckets> spread{}; // robust standard deviation (numeric series)

    [[nodiscard]] bool empty() const noexcept { return !(limit > 0); }
};

// Centre and spread per bucket from sorted, in-order training readings of one series (buckets
// with too few readings borrow the pooled hour, then the whole series), bucketed in `zone`.
// Leaves limit at 0: the caller calibrates it by running ProfileState over the same readings.
[[nodiscard]] Profile build_profile(const std::vector<core::Millis>& ts,
                                    const std::vector<double>& values, bool binary,
                                    double interval_ms, const core::Zone& zone);

// Per-series detection state: fixed size, no allocation.
class ProfileState {
public:
    static constexpr std::uint32_t kStateVersion = 1; // state file layer (state_file.hpp)

    // Returns the statistic (>= 0) after this in-order reading at instant ts, local wall time
    // `local` (its bucket); `residual`, if given, receives (x - expected) for numeric series
    // (training uses it for the spreads).
    double observe(const Profile& p, core::Millis ts, core::Millis local, double value,
                   double* residual = nullptr) noexcept;
    [[nodiscard]] double statistic() const noexcept { return m_sum < 0 ? -m_sum : m_sum; }
    [[nodiscard]] bool state_valid() const noexcept {
        return m_head < kRateWindow && valid_bool(m_started) && valid_time(m_last);
    }

private:
    std::array<float, kRateWindow> m_llr{};
    std::uint32_t m_head = 0;
    double m_sum = 0;   // binary: sum of m_llr; numeric: the EWMA of u
    double m_level = 0; // numeric: the slow level
    core::Millis m_last = 0;
    bool m_started = false;
};

} // namespace iots::detect
