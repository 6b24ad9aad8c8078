#pragma once
// The online layer of one series: what it learns from the stream it scores, and flags from a
// calibrated tail probability per statistic (DESIGN §2; issue 12).
//
// Learnt online, from the first reading: a robust level and spread (time constant one day), the
// typical step between readings (the unit of surprise of quantised and clamped sensors), and a
// daily profile (centre and spread per local hour, usable after two days). Five statistics:
//   zscore      |x - median| / scale over the last kWindow readings (SeriesState)
//   spike       |first difference| in units of its running scale (SeriesState)
//   level       |x - level| / spread: a level shift against the long-run level
//   daily       |x - centre of this local hour| / its spread: the daily pattern broken; on a
//               weekend the centre plus the weekends' offset of the hour, trusted in the part
//               d / (d + 2) of it after d weekend days (the rest widens the spread): a weekday
//               shaped like a Sunday (a holiday) is news, a young series' weekends are not
//   volatility  mean of min(level statistic, 10) over about the last 24 readings: a stretch of
//               unusual readings, a change of variance or of activity
//   gap, stuck  SeriesState's gap (interval in typical intervals) and run of identical readings
//               (its tail learns the length of each run that ended), so a series that is
//               irregular or repeats itself by nature stays silent
// Each has its own TailCalibrator; the statistic holds when its tail probability is below q and
// (zscore, spike) it is above a floor. q = target false alarms per series and day x the
// sampling interval / one day, clamped to [q_min, q_max].
// Readings while a statistic holds or an event is in progress are learnt with a tenth of the
// weight, so a slow failure is not learnt as normal. A change that lasts is adopted: once such a
// stretch has gone on for OnlineLevels::adopt_ms and at least kAdoptReadings readings, the level
// jumps to the median of the last kWindow readings (the daily centres move with it), the spread
// widens to their robust scale if that is larger, and for adopt_ms more the level, daily and
// volatility statistics do not hold and what the series does is learnt at full weight (a level
// shift or a stopped cycle is flagged once, at its onset, and is the new normal after a bounded
// time). The tails learn every value: what recurs is normal.
// Jumps: a series that switches between a few levels (a light, a quantised sensor, a machine's
// modes) makes jumps far larger than its noise, and their size in units of the noise of the
// moment varies with it (a lamp's 400 lux is thousands of units of the night's noise and a few of
// the day's), so no tail of the z, spike or daily statistic learns them. Two histograms of every
// first difference, up and down, in the series' own units (half octaves of its first non-zero
// step, fixed for life; learnt with the reading's weight), remember how often a jump happened: a
// z, spike or daily deviation d is not rare, however large against the noise of the moment, where
// jumps of at least d / sqrt 2 in its direction happen more often than the series' budget allows
// (k - sqrt k of k such jumps, as the tails' histogram). Apart by direction, since a
// one-reading spike makes one jump each way and one earlier spike must not make the next common.
// Fixed size, trivially copyable (the --state file stores it as raw bytes).
#include "iotshield/core/time.hpp"
#include "iotshield/detect/params.hpp"
#include "iotshield/detect/raw_state.hpp"
#include "iotshield/detect/tail.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace iots::detect {

inline constexpr std::size_t kOnlineStats = 7;
inline constexpr std::size_t kDailyBuckets = 24;
inline constexpr std::size_t kJumpBins = 48; // half octaves of the series' first step, 2^-6..2^18

enum class OnlineStat : std::uint8_t { zscore, spike, level, daily, volatility, gap, stuck };

struct OnlineInput {
    core::Millis ts = 0;    // UTC
    core::Millis local = 0; // the home's wall time at ts (core::Zone::local)
    double value = 0;
    double median = 0; // SeriesState's median and robust scale of its last kWindow readings
    double scale = 0;
    double z = 0;     // SeriesState's robust z
    double spike = 0; // SeriesState's spike statistic
    double gap = 0;   // SeriesState's gap statistic (interval in typical intervals)
    int run = 0;      // identical readings in a row
    bool z_valid = false;
    bool spike_valid = false;
    bool gap_valid = false;
    bool stuck = false;  // SeriesState's stuck check holds (the run is long and unlikely)
    bool binary = false; // a 0/1 series (motion, flame): only its gaps are judged here
    // A model's tails of z and spike over its training data (model.hpp ModelStat::z, ::spike), or
    // null: a z, level or daily deviation (in spreads, as z) or a spike that training saw often
    // enough is not rare for this series, however new to the online layer.
    const TailFit* z_prior = nullptr;
    const TailFit* spike_prior = nullptr;
};

struct OnlineVerdict {
    std::uint8_t holds = 0; // bit i: statistic OnlineStat(i) is anomalous at this reading
    double score = 0;       // in [0, 1]; 0.5 at the flag level
};

class OnlineState {
public:
    // Read back from a state file: every tail's indices and bools in range.
    [[nodiscard]] bool state_valid() const noexcept {
        if (!valid_time(m_first) || !valid_time(m_last_ts) || !valid_time(m_down_since) ||
            !valid_time(m_adopted_until) || !(m_profile_raise >= 0) || !(m_profile_raise < 1e6F))
            return false;
        if (!(m_jump_all >= 0) || !(m_jump_all < 1e12) || !(m_jump_unit >= 0) ||
            !(m_jump_unit < 1e300))
            return false;
        for (const auto& h : m_jump_hist)
            for (const float c : h)
                if (!(c >= 0) || !(c < 1e12F))
                    return false;
        for (const float o : m_weekend_offset)
            if (!std::isfinite(o))
                return false;
        for (const auto& t : m_tails)
            if (!t.state_valid())
                return false;
        return true;
    }
    static constexpr std::uint32_t kStateVersion = 5;

    // Scores one in-order reading and learns it; `event`: an event of this series is in progress
    // (learnt with a tenth of the weight, as a reading where a statistic holds).
    OnlineVerdict observe(const OnlineInput& in, const OnlineLevels& levels, bool event) noexcept;

    [[nodiscard]] double level() const noexcept { return m_level; }
    [[nodiscard]] double q() const noexcept { return m_q; }
    [[nodiscard]] std::uint64_t readings() const noexcept { return m_n; }
    // A model's profile check calibrated on the stream as well: each of its onsets makes it need
    // kProfileRaise nats more surprise on its training tail, which decays again at kProfileRaise
    // x OnlineLevels::per_day a day, so that a model whose profile no longer fits the series (a
    // change of variance it never saw, a new routine) settles near the series' budget instead of
    // flagging several times a day, while one that fits is untouched.
    [[nodiscard]] double profile_raise() const noexcept {
        return static_cast<double>(m_profile_raise);
    }
    void profile_onset() noexcept;
    // Until when the last adopted change is being learnt (0: none yet).
    [[nodiscard]] core::Millis adopted_until() const noexcept { return m_adopted_until; }

private:
    void learn(const OnlineInput& in, double weight, double dt) noexcept;
    void adopt(const OnlineInput& in, const OnlineLevels& levels) noexcept;
    [[nodiscard]] std::size_t jump_bin(double d) const noexcept;
    // ln(readings / jumps at least as large as d, lower bound on the count): the surprise of a
    // deviation d among the series' own jumps (0 where no unit is known yet).
    [[nodiscard]] double jump_surprise(double d) const noexcept; // d < 0: down
    // The centre and spread expected at this local hour on this day type: the daily profile,
    // on a weekend plus the weekend's offset in the part it is trusted (see online.cpp).
    [[nodiscard]] std::pair<double, double> expected(core::Millis local) const noexcept;

    std::array<TailCalibrator, kOnlineStats> m_tails{};
    std::array<float, kDailyBuckets> m_centre{};
    std::array<float, kDailyBuckets> m_hour_spread{};
    std::array<std::uint32_t, kDailyBuckets> m_bucket_n{};
    // Weekends (local Saturday and Sunday) against the daily profile, per hour: their mean
    // offset, learnt only on weekend days, and how many weekend readings it has learnt.
    std::array<float, kDailyBuckets> m_weekend_offset{};
    std::array<std::uint16_t, kDailyBuckets> m_weekend_n{};
    std::array<std::array<float, kJumpBins>, 2> m_jump_hist{}; // first differences up, down
    double m_jump_all = 0;                                     // readings learnt into it
    double m_jump_unit = 0; // the first non-zero |first difference|
    std::uint64_t m_n = 0;
    core::Millis m_first = 0;
    core::Millis m_last_ts = 0;
    double m_last_value = 0;
    double m_interval = 0; // EW mean sampling interval, ms
    double m_q = 0;
    double m_level = 0, m_spread = 0;
    double m_step = 0;             // EW mean non-zero |first difference|
    double m_volatility = 0;       // EW mean of the clipped level statistic
    int m_run = 0;                 // identical readings in a row up to the previous reading
    std::uint32_t m_down_n = 0;    // readings of the current stretch learnt at kDown weight
    core::Millis m_down_since = 0; // its first reading
    core::Millis m_adopted_until = 0;
    float m_profile_raise = 0;
};
static_assert(std::is_trivially_copyable_v<OnlineState>);

} // namespace iots::detect
