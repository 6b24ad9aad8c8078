#include "iotshield/detect/activity.hpp"

#include <algorithm>
#include <cmath>

namespace iots::detect {

namespace {
constexpr double kLimitMargin = 1.2;
constexpr double kFloor = 2.0;
// The learnt levels' margin: wider than a model's, which is judged by a tail calibrated on its
// whole training as well (with 1.2 a household of the simulator had 8 activity false alarms in 14
// days of 3 rooms, 0.57 a device-day in all).
constexpr double kLearntMargin = 1.5;
} // namespace

double ActivityState::observe(core::Millis ts, double value) noexcept {
    if (m_started)
        m_count *=
            std::exp(-static_cast<double>(std::max<core::Millis>(ts - m_last, 0)) / kActivityTauMs);
    m_count += value >= 0.5 ? 1.0 : 0.0;
    m_last = ts;
    m_started = true;
    return m_count;
}

double LearntActivity::ratio(double count, core::Millis local) noexcept {
    if (local < 0) // before 1970: not a home's reading; judged and learnt by nothing here
        return 0;
    const std::int64_t hour = local / 3'600'000;
    if (hour != m_hour) {
        if (m_hour >= 0) {
            const std::size_t b = profile_bucket(m_hour * 3'600'000);
            m_peak[b] = std::max(m_peak[b], m_hour_max);
            m_hours[b] = static_cast<std::uint8_t>(std::min(255, m_hours[b] + 1));
        }
        m_hour = hour;
        m_hour_max = 0;
    }
    const std::size_t b = profile_bucket(local);
    if (m_hours[b] < kMinHours)
        return 0;
    const std::size_t day = b / 24 * 24, h = b % 24;
    double m = 0;
    for (const std::size_t d : {std::size_t{23}, std::size_t{0}, std::size_t{1}}) {
        const std::size_t nb = day + (h + d) % 24;
        if (m_hours[nb] >= kMinHours)
            m = std::max(m, static_cast<double>(m_peak[nb]));
    }
    return count / (kLearntMargin * m + kFloor);
}

ActivityProfile build_activity(const std::vector<core::Millis>& ts,
                               const std::vector<double>& values,
                               const std::vector<std::size_t>& member_end, const core::Zone& zone) {
    std::array<double, kBuckets> mx{};
    std::array<bool, kBuckets> seen{};
    std::size_t from = 0;
    for (std::size_t end : member_end) {
        ActivityState st;
        for (std::size_t i = from; i < end && i < ts.size(); ++i) {
            const double c = st.observe(ts[i], values[i]);
            const std::size_t b = profile_bucket(zone.local(ts[i]));
            mx[b] = std::max(mx[b], c);
            seen[b] = true;
        }
        from = end;
    }
    double overall = 0;
    for (std::size_t b = 0; b < kBuckets; ++b)
        overall = std::max(overall, mx[b]);
    ActivityProfile p;
    for (std::size_t b = 0; b < kBuckets; ++b) {
        const std::size_t day = b / 24 * 24, hour = b % 24;
        double m = 0;
        bool any = false;
        for (std::size_t d : {std::size_t{23}, std::size_t{0}, std::size_t{1}}) {
            const std::size_t nb = day + (hour + d) % 24;
            if (seen[nb]) {
                m = std::max(m, mx[nb]);
                any = true;
            }
        }
        if (!any) { // the same hours of the other day type, else anything
            const std::size_t other = b < 24 ? 24 : 0;
            for (std::size_t d : {std::size_t{23}, std::size_t{0}, std::size_t{1}}) {
                const std::size_t nb = other + (hour + d) % 24;
                if (seen[nb]) {
                    m = std::max(m, mx[nb]);
                    any = true;
                }
            }
        }
        if (!any)
            m = overall;
        p.limit[b] = static_cast<float>(kLimitMargin * m + kFloor);
    }
    return p;
}

} // namespace iots::detect
