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
// TailFit is the same tail without its warm-up buffer, fitted at once on a whole training set: a
// model's own statistics (profile, forest, activity) carry one from training into detection.
#include "iotshield/detect/raw_state.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace iots::detect {

inline constexpr std::size_t kTailWarm = 96;
inline constexpr double kTailQuantile = 0.95;
inline constexpr double kTailHalve = 131'072;
inline constexpr std::size_t kTailBins = 40; // half octaves from 2^-4 to 2^16

// The fitted tail without the warm-up buffer: what a model file stores for a statistic of its
// own, fitted on the training data (fit), and what the detector goes on learning from the stream.
class TailFit {
public:
    // Fits the tail to a statistic's values in time order (all of them: the threshold is their
    // kTailQuantile quantile). Fewer than kTailWarm values leave it not ready.
    void fit(const std::vector<double>& values);
    void learn(double s, double weight = 1.0) noexcept;
    [[nodiscard]] bool ready() const noexcept { return m_warm >= kTailWarm; }
    [[nodiscard]] bool state_valid() const noexcept {
        return m_warm <= kTailWarm && valid_bool(m_in_peak);
    }
    [[nodiscard]] double surprise(double s, double cut) const noexcept;
    [[nodiscard]] double threshold() const noexcept { return m_t; }
    [[nodiscard]] double log_extremal_index() const noexcept { return log_theta(); }

    // The counts a model file stores (fields(): the derived ones are recomputed on load).
    struct Fields {
        std::array<float, kTailBins> hist{};
        double all = 0, t = 0, n = 0, peaks = 0, excess = 0, clusters = 0;
        bool ready = false;
    };
    [[nodiscard]] Fields fields() const noexcept;
    // False (and the tail left unchanged) for counts no fit can make.
    bool set_fields(const Fields& f) noexcept;

private:
    friend class TailCalibrator;
    // Counts the first n values against the threshold t.
    void start(const float* first, std::size_t n, double t) noexcept;
    void refresh() noexcept;
    void halve() noexcept;

    // Derived from the counts (refresh() keeps only the fraction, which is the peaks' share of
    // the readings as of the last peak, not of every reading since).
    [[nodiscard]] double inv_mean() const noexcept; // peaks / excess
    [[nodiscard]] double log_theta() const noexcept;

    // A state file stores these as raw bytes (OnlineState's layer): changing them means bumping
    // OnlineState::kStateVersion. m_warm is the calibrator's warm-up count.
    std::array<float, kTailBins> m_hist{};
    double m_all = 0; // values in m_hist
    std::uint32_t m_warm = 0;
    bool m_in_peak = false;
    double m_t = 0;        // threshold: the initial quantile
    double m_n = 0;        // values learnt after warm-up (decayed)
    double m_peaks = 0;    // ... above m_t
    double m_excess = 0;   // sum of (value - m_t) over the peaks
    double m_log_frac = 0; // ln(n / peaks), refreshed with the peaks
    double m_clusters = 0; // runs of consecutive peaks
};
static_assert(std::is_trivially_copyable_v<TailFit>);

class TailCalibrator {
public:
    // Learns one value of the statistic (>= 0) with a weight in (0, 1]: the caller gives the
    // readings of an anomaly less, so that a long one does not teach its own tail as it goes.
    void learn(double s, double weight = 1.0) noexcept;
    [[nodiscard]] bool ready() const noexcept { return m_fit.ready(); }
    // Read back from a state file: indices in range, bools 0 or 1.
    [[nodiscard]] bool state_valid() const noexcept { return m_fit.state_valid(); }
    // ln(1 / P(S >= s)) (0 before ready, and at or below the threshold): the surprise of s.
    // Where the fit's surprise exceeds `cut`, the smaller of it and the histogram's.
    [[nodiscard]] double surprise(double s, double cut) const noexcept {
        return m_fit.surprise(s, cut);
    }
    [[nodiscard]] double threshold() const noexcept { return m_fit.threshold(); }
    // ln of the extremal index: clusters of peaks / peaks (runs estimator, a cluster is a run of
    // consecutive peaks), at most 0. A statistic whose peaks come in runs of k readings makes
    // one alarm per run: its per-reading tail probability may be k times the per-alarm target.
    [[nodiscard]] double log_extremal_index() const noexcept { return m_fit.log_extremal_index(); }

private:
    std::array<float, kTailWarm> m_first{};
    TailFit m_fit;
};
static_assert(std::is_trivially_copyable_v<TailCalibrator>);

} // namespace iots::detect
