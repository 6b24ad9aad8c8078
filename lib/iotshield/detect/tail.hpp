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
// The exponential fit may be too thin for a tail that is a mixture (a light's noise and its
// switches): a half-octave histogram of every value learnt bounds the tail probability from below
// by how often values larger than this one (in a higher half-octave bin) were seen (k - sqrt k of k
// times: once proves nothing), so what has happened before, often enough, is never called rare.
// Counts are halved when n reaches kTailHalve, so the tail follows a series over months and the
// state stays fixed size. Fixed size, trivially copyable.
#include "iotshield/detect/raw_state.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace iots::detect {

inline constexpr std::size_t kTailWarm = 96;
inline constexpr double kTailQuantile = 0.95;
inline constexpr double kTailHalve = 131'072;
inline constexpr std::size_t kTailBins = 40; // half octaves from 2^-4 to 2^16

class TailCalibrator {
public:
    // Learns one value of the statistic (>= 0) with a weight in (0, 1]: the caller gives the
    // readings of an anomaly less, so that a long one does not teach its own tail as it goes.
    void learn(double s, double weight = 1.0) noexcept;
    [[nodiscard]] bool ready() const noexcept { return m_warm >= kTailWarm; }
    // Read back from a state file: indices in range, bools 0 or 1.
    [[nodiscard]] bool state_valid() const noexcept {
        return m_warm <= kTailWarm && valid_bool(m_in_peak);
    }
    // ln(1 / P(S >= s)) (0 before ready, and at or below the threshold): the surprise of s.
    // Where the fit's surprise exceeds `cut`, the smaller of it and the histogram's.
    [[nodiscard]] double surprise(double s, double cut) const noexcept;
    [[nodiscard]] double threshold() const noexcept { return m_t; }
    // ln of the extremal index: clusters of peaks / peaks (runs estimator, a cluster is a run of
    // consecutive peaks), at most 0. A statistic whose peaks come in runs of k readings makes
    // one alarm per run: its per-reading tail probability may be k times the per-alarm target.
    [[nodiscard]] double log_extremal_index() const noexcept { return m_log_theta; }

private:
    void refresh() noexcept;

    std::array<float, kTailWarm> m_first{};
    std::array<float, kTailBins> m_hist{};
    double m_all = 0; // values in m_hist
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
