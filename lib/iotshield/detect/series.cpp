#include "iotshield/detect/series.hpp"

#include "iotshield/detect/raw_state.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>

namespace iots::detect {

namespace {
constexpr double kAbsDiffToSigma = 1.2533; // E|X| = sigma * sqrt(2/pi) for a normal X
constexpr double kFast = 1.0 / 32.0;       // EW weights per reading
constexpr double kSlow = 1.0 / 2048.0;
constexpr double kRepeat = 1.0 / 256.0;
constexpr double kDevClip = 50.0;
constexpr std::int64_t kWholeDayMs = 86'400'000; // kDayMs for %
constexpr double kInf = std::numeric_limits<double>::infinity();

double clip(double v, double lo, double hi) noexcept {
    return std::min(std::max(v, lo), hi);
}
} // namespace

const std::array<std::string_view, kFeatures>& feature_names() noexcept {
    static constexpr std::array<std::string_view, kFeatures> kNames{
        "level", "dev_fast", "diff", "spread", "tod_sin", "tod_cos", "dev_slow"};
    return kNames;
}

std::string_view reason_name(std::size_t bit) noexcept {
    static constexpr std::array<std::string_view, kReasonCount> kNames{
        "threshold:flame", "threshold:gas", "threshold:heat", "threshold:ror", "zscore", "spike",
        "stuck",           "gap",           "iforest",        "profile"};
    return bit < kNames.size() ? kNames[bit] : std::string_view{};
}

double heat_level_for(double normal_max_c, double base) noexcept {
    struct Class {
        double max_application;
        double response;
    };
    static constexpr std::array<Class, 7> kClasses{
        {{50, 57}, {65, 69}, {80, 84}, {95, 99}, {110, 114}, {125, 129}, {140, 144}}};
    for (const auto& c : kClasses)
        if (normal_max_c <= c.max_application)
            return std::max(base, c.response);
    return std::max(base, normal_max_c + 5.0);
}

SeriesState::SeriesState(record::SensorKind kind) noexcept : m_kind(kind) {
    m_binary = kind == record::SensorKind::flame || kind == record::SensorKind::motion;
}

std::pair<double, double> median_mad_sorted(const double* v, std::size_t n) noexcept {
    // The deviations of the values below the median grow leftwards from it, those above
    // rightwards: the mid-th smallest deviation is found by merging the two runs middle out.
    const auto mid = static_cast<std::ptrdiff_t>(n / 2);
    const auto size = static_cast<std::ptrdiff_t>(n);
    const double median = v[mid];
    std::ptrdiff_t lo = mid, hi = mid + 1;
    double mad = 0;
    for (std::ptrdiff_t k = 0; k <= mid; ++k) {
        const double dl = lo >= 0 ? std::fabs(v[lo] - median) : kInf;
        const double dh = hi < size ? std::fabs(v[hi] - median) : kInf;
        if (dl <= dh) {
            mad = dl;
            --lo;
        } else {
            mad = dh;
            ++hi;
        }
    }
    return {median, mad};
}

std::int64_t SeriesState::typical_interval() const noexcept {
    if (m_interval_filled < 4)
        return 0;
    // The upper quartile of recent intervals: irregular sampling is normal up to its own spread.
    return m_intervals_sorted[(m_interval_filled * 3) / 4];
}

bool SeriesState::state_valid() const noexcept {
    return m_head < kWindow && m_filled <= kWindow && m_interval_head < kIntervals &&
           m_interval_filled <= kIntervals &&
           static_cast<unsigned>(m_kind) <= static_cast<unsigned>(record::SensorKind::other) &&
           valid_bool(m_binary) && m_run >= 0 && m_run <= (1 << 30) && m_p_repeat >= 0 &&
           m_p_repeat <= 1 && valid_time(m_last_ts) &&
           std::all_of(m_times.begin(), m_times.end(), valid_time) &&
           std::all_of(m_intervals.begin(), m_intervals.end(),
                       [](std::int64_t i) { return i >= 0 && valid_time(i); }) &&
           std::all_of(m_intervals_sorted.begin(), m_intervals_sorted.end(),
                       [](std::int64_t i) { return i >= 0 && valid_time(i); });
}

void SeriesState::refresh_robust() noexcept {
    const auto [median, mad] = median_mad_sorted(m_values_sorted.data(), m_filled);
    m_median = median;
    // Quantised or flat series have MAD 0: their own typical step is then the unit of surprise.
    m_scale = std::max({kMadToSigma * mad, m_step, 1e-9 * (1.0 + std::fabs(m_median))});
    m_since_refresh = 0;
}

int SeriesState::stuck_needed(const StreamLevels& stream, int series_min) const noexcept {
    constexpr int kNever = 1 << 30;
    if (m_diffs < 64 || m_p_repeat >= 0.9)
        return kNever; // a series that mostly repeats itself cannot be told stuck by repeats
    int n = std::max(stream.stuck_min, series_min);
    if (m_p_repeat > 0) {
        const double runs = std::log(stream.stuck_p) / std::log(m_p_repeat);
        n = std::max(n, static_cast<int>(std::ceil(runs)) + 1);
    }
    return n;
}

void SeriesState::observe(core::Millis ts, core::Millis local, double value,
                          const SafetyLevels& safety, const StreamLevels& stream,
                          const SeriesLevels& levels, Observation& out, bool features) noexcept {
    out = Observation{};
    using record::SensorKind;
    if (m_kind == SensorKind::flame && value >= 0.5)
        out.conditions |= kFlame;
    else if (m_kind == SensorKind::gas && value >= safety.gas_ppm)
        out.conditions |= kGas;
    else if (m_kind == SensorKind::temperature && value >= levels.heat_c)
        out.conditions |= kHeat;

    const bool have_last = m_count > 0;
    if (have_last && ts < m_last_ts) {
        out.in_order = false;
        if (m_filled >= static_cast<std::uint32_t>(stream.warmup) && !m_binary)
            out.z = std::fabs(value - m_median) / m_scale;
        if (out.z > levels.z)
            out.conditions |= kZscore;
        return;
    }
    if (have_last && ts == m_last_ts && value == m_last_value) {
        out.duplicate = true;
        return;
    }

    // Gap, against the intervals seen before this one.
    if (have_last) {
        const std::int64_t dt = ts - m_last_ts;
        const std::int64_t typical = typical_interval();
        if (typical > 0) {
            out.gap = static_cast<double>(dt) / static_cast<double>(typical);
            if (out.gap > stream.gap)
                out.conditions |= kGap;
        }
        if (dt > 0) {
            if (m_interval_filled == kIntervals)
                detail::sorted_replace(m_intervals_sorted, m_interval_filled,
                                       m_intervals[m_interval_head], dt);
            else
                detail::sorted_insert(m_intervals_sorted, m_interval_filled, dt);
            m_intervals[m_interval_head] = dt;
            m_interval_head = (m_interval_head + 1) % kIntervals;
            m_interval_filled = std::min<std::uint32_t>(m_interval_filled + 1, kIntervals);
        }
    }

    // Rate of rise: against the newest reading at least ror_window_ms old (or the oldest kept).
    if (m_kind == SensorKind::temperature && m_filled > 0) {
        std::size_t idx = (m_head + kWindow - 1) % kWindow;
        for (std::uint32_t i = 0; i < m_filled; ++i) {
            idx = (m_head + kWindow - 1 - i) % kWindow;
            if (m_times[idx] <= ts - safety.ror_window_ms)
                break;
        }
        const std::int64_t span = ts - m_times[idx];
        double rate = 0;
        if (span >= safety.ror_min_span_ms)
            rate = (value - m_values[idx]) * 60'000.0 / static_cast<double>(span);
        if (rate >= safety.ror_c_per_min && m_last_rate >= safety.ror_c_per_min)
            out.conditions |= kRor;
        m_last_rate = rate;
    }

    const double diff = have_last ? value - m_last_value : 0.0;
    const double sd = std::sqrt(m_var);
    const double slow_sd = std::sqrt(m_slow_var);
    const double tiny = 1e-9 * (1.0 + std::fabs(m_mean));
    if (features) {
        const auto tod = static_cast<double>(((local % kWholeDayMs) + kWholeDayMs) % kWholeDayMs) /
                         static_cast<double>(kWholeDayMs) * 2.0 * std::numbers::pi;
        // "level" is the value against the slow mean, not the raw value: a forest on raw values
        // flags every slow drift past the training range (an ageing gas sensor) as isolated.
        out.features = {value - m_slow_mean,
                        clip((value - m_mean) / std::max(sd, tiny), -kDevClip, kDevClip),
                        diff,
                        sd,
                        std::sin(tod),
                        std::cos(tod),
                        clip((value - m_slow_mean) / std::max(slow_sd, tiny), -kDevClip, kDevClip)};
    }
    const auto warm = static_cast<std::uint64_t>(stream.warmup);
    out.features_valid = m_count >= warm;

    if (!m_binary) {
        if (m_filled >= warm)
            out.z = std::fabs(value - m_median) / m_scale;
        if (out.z > levels.z)
            out.conditions |= kZscore;
        if (m_diffs >= warm) {
            const double unit =
                std::max({kAbsDiffToSigma * m_absdiff, m_step, 1e-9 * (1.0 + std::fabs(value))});
            out.spike = std::fabs(diff) / unit;
            if (out.spike > levels.spike)
                out.conditions |= kSpike;
        }
        m_run = (have_last && diff == 0.0) ? m_run + 1 : 1;
        out.run = m_run;
        if (m_run >= stuck_needed(stream, levels.stuck_min))
            out.conditions |= kStuck;
    }

    // Update the state with this reading. Exponential statistics take a winsorised value so that
    // one wild reading does not blind them for the next hundred.
    if (m_count == 0) {
        m_mean = m_slow_mean = value;
    } else {
        const double w = std::max(6.0 * sd, tiny);
        const double xc = m_count < warm ? value : clip(value, m_mean - w, m_mean + w);
        const double d = xc - m_mean;
        m_mean += kFast * d;
        m_var = (1.0 - kFast) * (m_var + kFast * d * d);
        const double ws = std::max(6.0 * slow_sd, tiny);
        const double xs = m_count < warm ? value : clip(value, m_slow_mean - ws, m_slow_mean + ws);
        const double ds = xs - m_slow_mean;
        const double a = std::max(kSlow, 1.0 / static_cast<double>(m_count + 1));
        m_slow_mean += a * ds;
        m_slow_var = (1.0 - a) * (m_slow_var + a * ds * ds);

        const double ad = std::fabs(diff);
        const double cap6 = 6.0 * std::max(m_absdiff, m_step);
        const double cap = (m_diffs < warm || cap6 <= 0) ? ad : cap6;
        const double da = std::max(kFast, 1.0 / static_cast<double>(m_diffs + 1));
        m_absdiff += da * (std::min(ad, cap) - m_absdiff);
        if (ad > 0)
            m_step += da * (std::min(ad, cap) - m_step);
        if (m_run < stream.stuck_min) { // a stuck stretch must not teach that repeats are normal
            const double dr = std::max(kRepeat, 1.0 / static_cast<double>(m_diffs + 1));
            m_p_repeat += dr * ((ad == 0.0 ? 1.0 : 0.0) - m_p_repeat);
        }
        ++m_diffs;
    }
    if (m_binary) { // no robust z for 0/1 series: nothing to keep in order
    } else if (m_filled == kWindow) {
        detail::sorted_replace(m_values_sorted, m_filled, m_values[m_head], value);
    } else {
        detail::sorted_insert(m_values_sorted, m_filled, value);
    }
    m_values[m_head] = value;
    m_times[m_head] = ts;
    m_head = (m_head + 1) % kWindow;
    m_filled = std::min<std::uint32_t>(m_filled + 1, kWindow);
    if (!m_binary && (m_filled < kWindow / 2 || ++m_since_refresh >= 8))
        refresh_robust();
    m_last_ts = ts;
    m_last_value = value;
    ++m_count;
}

} // namespace iots::detect
