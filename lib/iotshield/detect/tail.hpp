#pragma once
// A calibrated tail for one anomaly statistic of one series (peaks over threshold, in the spirit
// of SPOT, Siffer et al., KDD 2017, with an exponential tail: a generalised Pareto tail with
// shape 0, which needs no fitting and never extrapolates to an infinite tail).
//
// The first kTailWarm values of the statistic give the initial threshold t, their kTailQuantile
// quantile; from then on every value above t is a peak. P(s > x) for x above t is estimated as
// (peaks / n) * exp(-(x - t) / mean excess). The statistic is anomalous at tail probability q
// when x exceeds level(q) = t + mean excess * ln(peaks / (n q)), where q is the target per
// alarm divided by the extremal index (how many readings one excursion lasts, log_extremal_index).
// Counts are halved when n reaches kTailHalve, so the tail follows a series over months and the
// state stays fixed size. Fixed size, trivially copyable.
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace iots::detect {

inline constexpr std::size_t kTailWarm = 128;
inline constexpr double kTailQuantile = 0.95;
inline constexpr double kTailHalve = 131'072;

class TailCalibrator {
public:
    // Learns one value of the statistic (>= 0).
    void learn(double s) noexcept;
    [[nodiscard]] bool ready() const noexcept { return m_warm >= kTailWarm; }
    // ln(1 / P(S >= s)) (0 before ready, and at or below the threshold): the surprise of s.
    [[nodiscard]] double surprise(double s) const noexcept;
    [[nodiscard]] double threshold() const noexcept { return m_t; }
    // ln of the extremal index: clusters of peaks / peaks (runs estimator, a cluster is a run of
    // consecutive peaks), at most 0. A statistic whose peaks come in runs of k readings makes
    // one alarm per run: its per-reading tail probability may be k times the per-alarm target.
    [[nodiscard]] double log_extremal_index() const noexcept { return m_log_theta; }

private:
    void refresh() noexcept;

    std::array<float, kTailWarm> m_first{};
    std::uint32_t m_warm = 0;
    double m_t = 0;        // threshold: the initial quantile
    double m_n = 0;        // values learnt after warm-up (decayed)
    double m_peaks = 0;    // ... above m_t
    double m_excess = 0;   // sum of (value - m_t) over the peaks
    double m_log_frac = 0; // ln(n / peaks), refreshed with the peaks
    double m_inv_mean = 0; // peaks / excess
    double m_clusters = 0; // runs of consecutive peaks
    double m_log_theta = 0;
    bool m_in_peak = false;
};
static_assert(std::is_trivially_copyable_v<TailCalibrator>);

} // namespace iots::detect
