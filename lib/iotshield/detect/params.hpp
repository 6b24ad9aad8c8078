#pragma once
// Every tunable level of the detector, with its default and where the default comes from.
// Plain data: the tools fill it from options, the model file carries the per-series parts.
#include "iotshield/record/safety.hpp"

#include <cstdint>

namespace iots::detect {

// One day in ms, and what makes a median absolute deviation a standard deviation (the MAD of a
// normal distribution is 0.6745 sigma).
inline constexpr double kDayMs = 86'400'000.0;
inline constexpr double kMadToSigma = 1.4826;

// Safety thresholds act on true values and no model may overrule them (DESIGN §6). They flag
// every reading while the danger lasts.
struct SafetyLevels {
    // The shared danger levels (record/safety.hpp). A series whose trained normal maximum exceeds
    // EN 54-5 class A1's maximum application temperature (50 C) gets the class that fits its
    // location (see heat_level_for), as an installer would.
    double gas_ppm = record::kGasDangerPpm;
    double heat_c = record::kHeatDangerC;
    // Rate-of-rise, deg C per minute. NFPA 72 (17.6.2.3) and UL 521: a rate-of-rise detector
    // operates at about 15 F/min = 8.3 C/min. Measured over ror_window_ms, and only when both of
    // the last two readings show it (a derivative doubles the noise of one reading).
    double ror_c_per_min = 8.3;
    std::int64_t ror_window_ms = 60'000;
    std::int64_t ror_min_span_ms = 20'000;
};

// The model-free statistical checks. The tools use these defaults; training raises the z and
// spike levels per series to the user's false-alarm rate when the normal data needs it.
struct StreamLevels {
    double z = 7.0;        // robust z = |x - median| / (1.4826 MAD) over the last kWindow readings
    double spike = 9.0;    // |first difference| in units of its running scale
    double gap = 5.0;      // a gap is longer than this many typical intervals
    int stuck_min = 12;    // fewest identical readings in a row to call a sensor stuck
    double stuck_p = 1e-6; // ... and the run must be this unlikely given the series' own repeats
    int clear_after = 6;   // readings without the condition before an event counts as over
    int warmup = 16;       // readings before the statistical checks speak
};

struct ForestParams {
    std::uint32_t trees = 100;
    std::uint32_t subsample = 256;
    std::uint32_t depth = 8; // ceil(log2(subsample)), Liu et al. 2008
    std::uint64_t seed = 1;
};

// Heat alarm level for a location whose normal maximum (from training) is `normal_max_c`:
// EN 54-5 classes A1, B, C, D, E, F, G by maximum application temperature (50, 65, 80, 95, 110,
// 125, 140 C) with their minimum static response temperatures (A1: our 57; 69, 84, 99, 114, 129,
// 144 C). Never below `base` (the configured level).
[[nodiscard]] double heat_level_for(double normal_max_c, double base) noexcept;

} // namespace iots::detect

namespace iots::detect {

// The online layer (online.hpp): its target false-alarm rate and the floors under its calibrated
// statistics.
struct OnlineLevels {
    // Target false alarms per series and day from each statistic's tail: a household with 30
    // series then sees a handful a week at most, most of them merged into one event.
    double per_day = 0.25;
    // Bounds of the per-reading tail probability: q_max keeps slowly sampled series (one reading
    // an hour) from flagging the top 0.1 % of whatever they do; q_min keeps fast ones (one a
    // second) from asking the tail for more than its few thousand readings can tell.
    double q_max = 1e-3;
    double q_min = 1e-5;
    // A deviation is never an anomaly below these, however rare in a quiet series: 5 spreads
    // from the median, level or hour's centre; a first difference of 6 typical differences; an
    // average deviation of 3 spreads over the volatility window.
    double z_floor = 5.0;
    double volatility_floor = 3.0;
    double spike_floor = 6.0;
    double gap_floor = StreamLevels{}.gap;
    // Statistics of other layers of the series (a model's) that share its budget per reading
    // with the online layer's own (Bonferroni).
    int other_stats = 0;
    // The layer only learns for this long after a series' first reading. 0 without a model (it
    // speaks once its tails have 96 readings); with one, as long as the model's training covered,
    // at most a day (detector.cpp).
    std::int64_t learn_first_ms = 0;
    // A stretch of readings learnt at a tenth of the weight (a statistic holds or an event is in
    // progress) that lasts this long is a change of the series, adopted as its new normal (and
    // learnt at full weight for as long again, its level, daily and volatility statistics
    // silent): online.hpp. Six hours: a failing heating or a fridge left open is flagged at its
    // onset, long before; a home does not stay in one wrong state for hours unnoticed.
    std::int64_t adopt_ms = 6 * 3'600'000LL;
};

} // namespace iots::detect
