#include "iotshield/detect/day_summary.hpp"

#include "iotshield/detect/params.hpp"
#include "iotshield/detect/raw_state.hpp"
#include "iotshield/detect/typical_step.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace iots::detect {

namespace {
constexpr std::int64_t kDay = 86'400'000;
constexpr double kBeyond = 2.0;     // scales beyond every previous day's value
constexpr double kRangeFloor = 0.1; // the scale is at least this share of the median range

std::int64_t day_of(core::Millis local) noexcept {
    return local >= 0 ? local / kDay : (local - kDay + 1) / kDay;
}

// Insertion sort of the first n of at most kSummaryDays values (std::sort on 7 values trips
// GCC 12's -Warray-bounds under the sanitizers' flags).
void sort_few(std::array<double, kSummaryDays>& a, std::size_t n) noexcept {
    for (std::size_t i = 1; i < n; ++i)
        for (std::size_t j = i; j > 0 && a[j] < a[j - 1]; --j)
            std::swap(a[j], a[j - 1]);
}

bool finite_all(const std::array<float, kSummaryDays>& a) noexcept {
    return std::all_of(a.begin(), a.end(), [](float x) { return std::isfinite(x); });
}
} // namespace

DaySummary::Robust DaySummary::robust(const float* v, std::size_t n) noexcept {
    std::array<double, kSummaryDays> s{};
    n = std::min(n, kSummaryDays);
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<double>(v[i]);
    sort_few(s, n);
    Robust r;
    if (n == 0)
        return r;
    r.lo = s[0];
    r.hi = s[n - 1];
    r.median = n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    std::array<double, kSummaryDays> d{};
    for (std::size_t i = 0; i < n; ++i)
        d[i] = std::fabs(s[i] - r.median);
    sort_few(d, n);
    const double mad = n % 2 == 1 ? d[n / 2] : 0.5 * (d[n / 2 - 1] + d[n / 2]);
    r.scale = kMadToSigma * mad;
    return r;
}

bool DaySummary::state_valid() const noexcept {
    return m_head < kSummaryDays && m_days <= (1U << 30) && valid_time(m_day) &&
           valid_time(m_first) && valid_time(m_last) && std::isfinite(m_max) &&
           std::isfinite(m_min) && std::isfinite(m_sum) && std::isfinite(m_step) && m_step >= 0 &&
           std::isfinite(m_value) && std::isfinite(m_hi_max) && std::isfinite(m_lo_min) &&
           m_flags < 64 && m_prev_flags < 64 && valid_bool(m_armed) && valid_bool(m_started) &&
           valid_bool(m_alarm) && m_summed <= m_n &&
           std::all_of(m_hist.begin(), m_hist.end(), finite_all);
}

std::uint8_t DaySummary::check_closed() const noexcept {
    const std::size_t n = std::min<std::size_t>(m_days, kSummaryDays);
    if (n < kSummaryArmDays)
        return 0;
    const Robust mx = robust(m_hist[0].data(), n);
    const Robust mn = robust(m_hist[1].data(), n);
    const Robust mean = robust(m_hist[2].data(), n);
    const double floor = std::max({kRangeFloor * (mx.median - mn.median), m_step, 1e-12});
    const auto low = [&](const Robust& r, double x) {
        const double s = std::max(r.scale, floor);
        return x < r.median - kSummaryK * s && x < r.lo - kBeyond * s;
    };
    const auto high = [&](const Robust& r, double x) {
        const double s = std::max(r.scale, floor);
        return x > r.median + kSummaryK * s && x > r.hi + kBeyond * s;
    };
    const double day_mean = m_sum / static_cast<double>(m_summed);
    std::uint8_t bits = 0;
    if (low(mx, m_max))
        bits |= kMaxLow;
    if (high(mn, m_min))
        bits |= kMinHigh;
    if (high(mean, day_mean))
        bits |= kMeanHigh;
    if (low(mean, day_mean))
        bits |= kMeanLow;
    return bits;
}

void DaySummary::close_day() noexcept {
    const bool complete =
        m_last - m_first >= kCompleteMs && 2 * m_n >= m_last_n && 2 * m_summed >= m_n;
    if (complete && m_alarm) {
        m_last_n = m_n; // complete, but a fire's day: not a usual one
    } else if (complete) {
        m_hist[0][m_head] = static_cast<float>(m_max);
        m_hist[1][m_head] = static_cast<float>(m_min);
        m_hist[2][m_head] = static_cast<float>(m_sum / static_cast<double>(m_summed));
        m_head = (m_head + 1) % static_cast<std::uint32_t>(kSummaryDays);
        ++m_days;
        m_last_n = m_n;
    }
    const std::size_t n = std::min<std::size_t>(m_days, kSummaryDays);
    m_armed = n >= kSummaryArmDays;
    if (m_armed) {
        const Robust mx = robust(m_hist[0].data(), n);
        const Robust mn = robust(m_hist[1].data(), n);
        const double floor = std::max({kRangeFloor * (mx.median - mn.median), m_step, 1e-12});
        const double smx = std::max(mx.scale, floor);
        const double smn = std::max(mn.scale, floor);
        m_hi_max = std::max(mx.median + kSummaryK * smx, mx.hi + kBeyond * smx);
        m_lo_min = std::min(mn.median - kSummaryK * smn, mn.lo - kBeyond * smn);
    }
}

void DaySummary::learn_step(double value) noexcept {
    learn_typical_step(m_step, m_value, value);
}

std::uint8_t DaySummary::observe(core::Millis local, double value, bool alarm,
                                 bool outlier) noexcept {
    if (!std::isfinite(value))
        return 0;
    const std::int64_t day = day_of(local);
    std::uint8_t closed = 0; // the day just ended, judged whole
    if (!m_started || day != m_day) {
        if (m_started) {
            // Only if it was complete and this is its successor: a gap of days says nothing of
            // the pattern.
            const bool next = day == m_day + 1;
            const bool whole =
                m_last - m_first >= kCompleteMs && 2 * m_n >= m_last_n && 2 * m_summed >= m_n;
            const std::uint8_t held = whole && next ? check_closed() : 0;
            // Not on a day already flagged: one flag a day.
            closed = m_flags == 0 ? static_cast<std::uint8_t>(held & ~m_prev_flags) : 0;
            m_flags = static_cast<std::uint8_t>(m_flags | held);
            close_day();
            // A fire's day holds nothing back: what it made impossible was the fire's.
            m_prev_flags = next && !m_alarm ? m_flags : 0;
            if (!outlier)
                learn_step(value);
        }
        m_started = true;
        m_day = day;
        m_first = local;
        m_max = m_min = value;
        m_sum = 0;
        m_n = 0;
        m_summed = 0;
        m_flags = 0;
        m_alarm = false;
    } else if (!outlier) {
        learn_step(value);
    }
    if (!outlier) {
        m_max = m_summed > 0 ? std::max(m_max, value) : value;
        m_min = m_summed > 0 ? std::min(m_min, value) : value;
        m_sum += value;
        ++m_summed;
        m_value = value;
    }
    ++m_n;
    m_last = local;
    m_alarm = m_alarm || alarm;
    std::uint8_t now = 0;
    if (m_armed && m_summed > 0) {
        if (m_max > m_hi_max)
            now |= kMaxHigh;
        if (m_min < m_lo_min)
            now |= kMinLow;
    }
    // Once a day and direction; not on the day after the same one held (flagged or held back).
    const auto fresh = static_cast<std::uint8_t>(now & ~m_flags & ~m_prev_flags);
    m_flags = static_cast<std::uint8_t>(m_flags | now);
    return static_cast<std::uint8_t>(closed | fresh);
}

} // namespace iots::detect
