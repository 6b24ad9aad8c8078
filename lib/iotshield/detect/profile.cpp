#include "iotshield/detect/profile.hpp"

#include "iotshield/detect/params.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace iots::detect {

namespace {
constexpr double kClip = 8.0;
constexpr double kMaxWeight = 720.0; // a gap counts as at most one hour-constant of time
constexpr double kEwmaMs = 3'600'000.0;
constexpr double kLevelMs = 86'400'000.0;
constexpr std::size_t kMinBucket = 30; // readings in a bucket before it stands on its own

double median_of(std::vector<double>& v) {
    if (v.empty())
        return 0;
    const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    return *mid;
}

// Median and robust sd of v (reordered).
std::pair<double, double> centre_spread(std::vector<double>& v) {
    const double c = median_of(v);
    std::vector<double> d(v.size());
    std::transform(v.begin(), v.end(), d.begin(), [c](double x) { return std::fabs(x - c); });
    return {c, kMadToSigma * median_of(d)};
}
} // namespace

std::size_t profile_bucket(core::Millis local) noexcept {
    const auto hour = static_cast<std::size_t>(core::local_hour(local));
    return hour + (core::local_weekday(local) >= 5 ? 24 : 0);
}

Profile build_profile(const std::vector<core::Millis>& ts, const std::vector<double>& values,
                      bool binary, double interval_ms, const core::Zone& zone) {
    Profile p;
    p.binary = binary;
    p.interval_ms = std::max(interval_ms, 1.0);
    std::vector<core::Millis> local(ts.size());
    std::transform(ts.begin(), ts.end(), local.begin(),
                   [&zone](core::Millis t) { return zone.local(t); });
    std::array<std::vector<double>, kBuckets> by_bucket;
    for (std::size_t i = 0; i < ts.size(); ++i)
        by_bucket[profile_bucket(local[i])].push_back(values[i]);

    if (binary) {
        // Event rate with half an event of prior per bucket (never exactly 0 or 1).
        double events = 0;
        for (double v : values)
            events += v >= 0.5 ? 1.0 : 0.0;
        const double overall = (events + 0.5) / (static_cast<double>(values.size()) + 1.0);
        for (std::size_t b = 0; b < kBuckets; ++b) {
            const auto& v = by_bucket[b];
            const auto& pooled = by_bucket[b % 24 + (b < 24 ? 24 : 0)];
            double k = 0, n = 0;
            for (double x : v)
                k += x >= 0.5 ? 1.0 : 0.0;
            n = static_cast<double>(v.size());
            if (v.size() < kMinBucket) { // borrow the same hour of the other day type
                for (double x : pooled)
                    k += x >= 0.5 ? 1.0 : 0.0;
                n += static_cast<double>(pooled.size());
            }
            p.centre[b] = static_cast<float>(n > 0 ? (k + 0.5) / (n + 1.0) : overall);
            p.spread[b] = 0;
        }
        return p;
    }

    // Numeric: offsets per bucket first, then the spread of the residuals that detection will
    // see (the same ProfileState code), never below the series' reading-to-reading noise.
    std::vector<double> diffs;
    diffs.reserve(values.size());
    for (std::size_t i = 1; i < values.size(); ++i)
        diffs.push_back(std::fabs(values[i] - values[i - 1]));
    std::vector<double> all(values);
    const auto [gc, gs] = centre_spread(all);
    const double noise = 1.2533 * median_of(diffs);
    const double floor = std::max({noise, 0.05 * gs, 1e-6 * (1.0 + std::fabs(gc))});
    p.median = gc;
    const auto pooled = [&](const std::array<std::vector<double>, kBuckets>& by, std::size_t b) {
        std::vector<double> v = by[b];
        if (v.size() < kMinBucket) {
            const auto& other = by[b % 24 + (b < 24 ? 24 : 0)];
            v.insert(v.end(), other.begin(), other.end());
        }
        return v;
    };
    for (std::size_t b = 0; b < kBuckets; ++b) {
        std::vector<double> v = pooled(by_bucket, b);
        p.centre[b] = static_cast<float>(v.size() >= kMinBucket ? median_of(v) - gc : 0.0);
        p.spread[b] = static_cast<float>(std::max(gs, floor)); // provisional, for the winsorising
    }
    std::array<std::vector<double>, kBuckets> residuals;
    ProfileState st;
    for (std::size_t i = 0; i < ts.size(); ++i) {
        double r = 0;
        (void)st.observe(p, ts[i], local[i], values[i], &r);
        residuals[profile_bucket(local[i])].push_back(r);
    }
    for (std::size_t b = 0; b < kBuckets; ++b) {
        std::vector<double> v = pooled(residuals, b);
        double s = gs;
        if (v.size() >= kMinBucket) {
            std::transform(v.begin(), v.end(), v.begin(), [](double x) { return std::fabs(x); });
            s = kMadToSigma * median_of(v); // residuals centre on 0
        }
        p.spread[b] = static_cast<float>(std::max(s, floor));
    }
    return p;
}

double ProfileState::observe(const Profile& p, core::Millis ts, core::Millis local, double value,
                             double* residual) noexcept {
    const std::size_t b = profile_bucket(local);
    if (p.binary) {
        const double p0 = std::clamp(static_cast<double>(p.centre[b]), 1e-4, 0.9);
        const double p1 = std::min(0.95, std::max(4.0 * p0, 0.5));
        const double llr = value >= 0.5 ? std::log(p1 / p0) : std::log((1.0 - p1) / (1.0 - p0));
        const auto f = static_cast<float>(llr);
        m_sum += static_cast<double>(f) - static_cast<double>(m_llr[m_head]);
        m_llr[m_head] = f;
        m_head = static_cast<std::uint32_t>((m_head + 1) % kRateWindow);
        if (m_head == 0) { // re-add from scratch once a window: no drift from rounding
            m_sum = 0;
            for (float x : m_llr)
                m_sum += static_cast<double>(x);
        }
        m_last = ts;
        m_started = true;
        return m_sum > 0 ? m_sum : 0;
    }
    double w = 1;
    if (!m_started)
        m_level = p.median;
    else
        w = std::clamp(static_cast<double>(ts - m_last) / p.interval_ms, 0.0, kMaxWeight);
    const double spread = static_cast<double>(p.spread[b]);
    const double r = value - static_cast<double>(p.centre[b]) - m_level;
    if (residual != nullptr)
        *residual = r;
    const double u = std::clamp(r / spread, -kClip, kClip);
    const double a = -std::expm1(-w * p.interval_ms / kEwmaMs);
    m_sum += a * (u - m_sum);
    const double al = -std::expm1(-w * p.interval_ms / kLevelMs);
    m_level += al * std::clamp(r, -3.0 * spread, 3.0 * spread);
    m_last = ts;
    m_started = true;
    return statistic();
}

} // namespace iots::detect
