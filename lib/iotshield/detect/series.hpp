#pragma once
// The per-series streaming state: model-free checks (safety thresholds, robust z-score, spike,
// stuck, gap) and the online features the forest scores. One piece of code serves detection and
// training, so the features a model was trained on are exactly the ones it is later shown.
// State is a fixed size (sizeof(SeriesState) is under 4 KiB, checked by a unit test) and does not
// grow with the stream.
#include "iotshield/core/time.hpp"
#include "iotshield/detect/params.hpp"
#include "iotshield/record/sensor.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

namespace iots::detect {

inline constexpr std::size_t kWindow = 64;    // values for median/MAD and rate of rise
inline constexpr std::size_t kIntervals = 16; // sampling intervals, for the gap check
inline constexpr std::size_t kFeatures = 7;

using Features = std::array<double, kFeatures>;

// Names of the features, in order; stored in the model file and compared on load.
[[nodiscard]] const std::array<std::string_view, kFeatures>& feature_names() noexcept;

// Reason bits, in the order they are reported.
enum Reason : std::uint16_t {
    kFlame = 1U << 0,
    kGas = 1U << 1,
    kHeat = 1U << 2,
    kRor = 1U << 3,
    kZscore = 1U << 4,
    kSpike = 1U << 5,
    kStuck = 1U << 6,
    kGap = 1U << 7,
    kIforest = 1U << 8,
    kProfile = 1U << 9,
};
inline constexpr std::uint16_t kSafety = kFlame | kGas | kHeat | kRor;
inline constexpr std::size_t kReasonCount = 10;
// "threshold:flame", "zscore", ...; for bit i (0-based).
[[nodiscard]] std::string_view reason_name(std::size_t bit) noexcept;

// Levels that may differ per series (from the model), with the defaults when there is none.
struct SeriesLevels {
    double z = StreamLevels{}.z;
    double spike = StreamLevels{}.spike;
    int stuck_min = StreamLevels{}.stuck_min;
    double heat_c = SafetyLevels{}.heat_c;
};

// What the streaming layer saw in one reading.
struct Observation {
    std::uint16_t conditions = 0; // reason bits holding at this reading (no kIforest here)
    bool in_order = true;         // false: older than the newest reading seen (state untouched)
    bool duplicate = false;       // same ts and value as the previous reading (state untouched)
    bool features_valid = false;  // in order and past warm-up
    double z = 0;                 // robust z-score (0 before warm-up)
    double spike = 0;             // first difference in units of its running scale
    double gap = 0;               // interval before this reading in typical intervals
    int run = 0;                  // identical readings in a row, this one included
    Features features{};
};

// Median and median absolute deviation of n >= 1 values in ascending order: the same numbers as
// std::nth_element finds at n / 2 of the values and of their absolute deviations from the median.
[[nodiscard]] std::pair<double, double> median_mad_sorted(const double* sorted,
                                                          std::size_t n) noexcept;

namespace detail {
// std::lower_bound and std::upper_bound as libstdc++ writes them (the same probes, so the same
// result for any input, NaN included), with masks in place of the branch on the data: in a
// reading's window that branch is a coin toss, and its mispredictions cost more than the search.
template <typename It, typename T> It lower_bound(It first, It last, const T& value) noexcept {
    std::ptrdiff_t len = last - first;
    while (len > 0) {
        const std::ptrdiff_t half = len >> 1;
        const std::ptrdiff_t go_right = -static_cast<std::ptrdiff_t>(*(first + half) < value);
        first += (half + 1) & go_right;
        len = half + ((len - 2 * half - 1) & go_right); // right: len - half - 1; left: half
    }
    return first;
}

template <typename It, typename T> It upper_bound(It first, It last, const T& value) noexcept {
    std::ptrdiff_t len = last - first;
    while (len > 0) {
        const std::ptrdiff_t half = len >> 1;
        const std::ptrdiff_t go_right = -static_cast<std::ptrdiff_t>(!(value < *(first + half)));
        first += (half + 1) & go_right;
        len = half + ((len - 2 * half - 1) & go_right);
    }
    return first;
}

// `sorted` holds the n values of a ring in ascending order; one of them (`old`) is replaced by
// `value`, or `value` is added (n < N), keeping the order: two binary searches and one move.
template <typename T, std::size_t N>
void sorted_replace(std::array<T, N>& sorted, std::uint32_t n, T old, T value) noexcept {
    const auto begin = sorted.begin();
    const auto end = begin + static_cast<std::ptrdiff_t>(n);
    auto out = detail::lower_bound(begin, end, old);
    if (out == end || !(*out == old)) // NaN (never from a parsed reading): find it by its bits
        out = std::find_if(begin, end,
                           [&](const T& x) { return std::memcmp(&x, &old, sizeof(T)) == 0; });
    if (out == end)
        out = end - 1;
    const auto in = detail::upper_bound(begin, end, value);
    if (in <= out) { // [in, out) moves up one
        std::move_backward(in, out, out + 1);
        *in = value;
    } else { // (out, in) moves down one
        std::move(out + 1, in, out);
        *(in - 1) = value;
    }
}

template <typename T, std::size_t N>
void sorted_insert(std::array<T, N>& sorted, std::uint32_t n, T value) noexcept {
    const auto end = sorted.begin() + static_cast<std::ptrdiff_t>(n);
    const auto in = detail::upper_bound(sorted.begin(), end, value);
    std::move_backward(in, end, end + 1);
    *in = value;
}
} // namespace detail

class SeriesState {
public:
    // Saved as raw bytes in the state file (state_file.hpp): bump on any change of the members.
    static constexpr std::uint32_t kStateVersion = 1;

    explicit SeriesState(record::SensorKind kind = record::SensorKind::other) noexcept;

    // features: fill out.features (only a model scores them; features_valid is set either way).
    // `local` is ts as the home's wall time (core::Zone::local): the time-of-day features.
    void observe(core::Millis ts, core::Millis local, double value, const SafetyLevels& safety,
                 const StreamLevels& stream, const SeriesLevels& levels, Observation& out,
                 bool features = true) noexcept;

    [[nodiscard]] record::SensorKind kind() const noexcept { return m_kind; }
    [[nodiscard]] std::uint64_t count() const noexcept { return m_count; }
    // Median and robust scale (1.4826 MAD, at least the typical step) of the last kWindow values.
    [[nodiscard]] double median() const noexcept { return m_median; }
    [[nodiscard]] double scale() const noexcept { return m_scale; }
    // 1.4826 x the MAD of the last kWindow values, unfloored (the change-of-variance check's
    // window); negative until kWindow values are in.
    [[nodiscard]] double window_scale() const noexcept {
        if (m_filled < kWindow)
            return -1.0;
        return kMadToSigma * median_mad_sorted(m_values_sorted.data(), m_filled).second;
    }
    // Typical sampling interval in ms (0 until known).
    [[nodiscard]] std::int64_t typical_interval() const noexcept;
    // Ring positions and the kind within range (a state read back from a file).
    [[nodiscard]] bool state_valid() const noexcept;

private:
    void refresh_robust() noexcept;
    [[nodiscard]] int stuck_needed(const StreamLevels& stream, int series_min) const noexcept;

    std::array<double, kWindow> m_values{};
    std::array<core::Millis, kWindow> m_times{};
    std::array<std::int64_t, kIntervals> m_intervals{};
    // The same values and intervals in order, for the median, MAD and quartile without sorting.
    std::array<double, kWindow> m_values_sorted{};
    std::array<std::int64_t, kIntervals> m_intervals_sorted{};
    std::uint32_t m_head = 0; // next slot in m_values/m_times
    std::uint32_t m_filled = 0;
    std::uint32_t m_interval_head = 0;
    std::uint32_t m_interval_filled = 0;
    std::uint32_t m_since_refresh = 0;
    std::uint64_t m_count = 0; // in-order readings
    std::uint64_t m_diffs = 0; // first differences seen
    record::SensorKind m_kind;
    bool m_binary = false;

    core::Millis m_last_ts = 0;
    double m_last_value = 0;
    double m_last_rate = 0; // deg C/min at the previous reading (rate of rise)
    int m_run = 0;

    double m_median = 0, m_scale = 1;
    double m_mean = 0, m_var = 0;           // fast exponentially weighted
    double m_slow_mean = 0, m_slow_var = 0; // slow exponentially weighted
    double m_absdiff = 0;                   // EW mean |first difference| (winsorised)
    double m_step = 0;                      // EW mean of non-zero |first difference|
    double m_p_repeat = 0.5;                // EW share of zero first differences
};

} // namespace iots::detect
