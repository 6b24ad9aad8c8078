#include "iotshield/detect/tail.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace iots::detect {

namespace {
constexpr double kMinTheta = 1.0 / 64.0;
constexpr int kMinExponent = -4;

// Half-octave bin of s >= 0 from its bits: exponent and first mantissa bit, no logarithm.
std::size_t bin_of(double s) noexcept {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &s, sizeof bits);
    const int exponent = static_cast<int>((bits >> 52) & 0x7FF) - 1023;
    const int half = static_cast<int>((bits >> 51) & 1);
    const int i = 2 * (exponent - kMinExponent) + half;
    return static_cast<std::size_t>(std::clamp(i, 0, static_cast<int>(kTailBins) - 1));
}
} // namespace

void TailFit::refresh() noexcept {
    const double peaks = std::max(m_peaks, 1.0);
    m_log_frac = std::log(std::max(m_n, peaks) / peaks);
}

double TailFit::inv_mean() const noexcept {
    // A tail with no peak yet is as thin as one peak at the threshold's own scale: the first
    // value beyond everything seen is then surprising but not infinitely so.
    const double peaks = std::max(m_peaks, 1.0);
    const double excess = m_excess > 0 ? m_excess : peaks * std::max(m_t, 1e-12);
    return peaks / excess;
}

double TailFit::log_theta() const noexcept {
    const double peaks = std::max(m_peaks, 1.0);
    return std::log(std::clamp(std::max(m_clusters, 1.0) / peaks, kMinTheta, 1.0));
}

// The kTailQuantile quantile of values (reordered).
template <typename It> double threshold_of(It begin, It end) noexcept {
    const auto n = static_cast<double>(end - begin);
    const auto k = static_cast<std::ptrdiff_t>(kTailQuantile * n);
    std::nth_element(begin, begin + k, end);
    return static_cast<double>(begin[k]);
}

void TailFit::start(const float* first, std::size_t n, double t) noexcept {
    m_t = t;
    for (std::size_t i = 0; i < n; ++i) {
        const auto v = static_cast<double>(first[i]);
        m_n += 1;
        if (v > m_t) {
            m_peaks += 1;
            m_excess += v - m_t;
            m_clusters += m_in_peak ? 0.0 : 1.0;
        }
        m_in_peak = v > m_t;
    }
    m_warm = kTailWarm;
    refresh();
}

void TailFit::fit(const std::vector<double>& values) {
    *this = TailFit{};
    std::vector<float> v;
    v.reserve(values.size());
    for (const double s : values)
        if (s >= 0)
            v.push_back(static_cast<float>(s));
    if (v.size() < kTailWarm)
        return;
    for (const float f : v) {
        m_hist[bin_of(static_cast<double>(f))] += 1.0F;
        m_all += 1;
    }
    std::vector<float> sorted = v;
    start(v.data(), v.size(), threshold_of(sorted.begin(), sorted.end()));
    while (m_n >= kTailHalve)
        halve();
}

void TailFit::halve() noexcept {
    m_n *= 0.5;
    m_peaks *= 0.5;
    m_excess *= 0.5;
    m_clusters *= 0.5;
    m_all *= 0.5;
    for (float& c : m_hist)
        c *= 0.5F;
    refresh();
}

void TailFit::learn(double s, double weight) noexcept {
    if (!(s >= 0) || !ready())
        return;
    m_hist[bin_of(s)] += static_cast<float>(weight);
    m_all += weight;
    m_n += weight;
    if (s > m_t) {
        m_peaks += weight;
        m_excess += weight * (s - m_t);
        m_clusters += m_in_peak ? 0.0 : weight;
        refresh();
    }
    m_in_peak = s > m_t;
    if (m_n >= kTailHalve)
        halve();
}

double TailFit::surprise(double s, double cut) const noexcept {
    if (!ready() || !(s > m_t))
        return 0;
    const double fit = m_log_frac + (s - m_t) * inv_mean();
    if (!(fit > cut))
        return fit;
    double seen = 0;
    for (std::size_t i = bin_of(s) + 1; i < kTailBins; ++i)
        seen += static_cast<double>(m_hist[i]);
    // A lower confidence bound on the count (k - sqrt k): one earlier value proves nothing.
    const double k = seen - std::sqrt(seen);
    return k > 0 ? std::min(fit, std::log(m_all / k)) : fit;
}

TailFit::Fields TailFit::fields() const noexcept {
    return {m_hist, m_all, m_t, m_n, m_peaks, m_excess, m_clusters, ready()};
}

bool TailFit::set_fields(const Fields& f) noexcept {
    if (!f.ready) {
        *this = TailFit{};
        return true;
    }
    double sum = 0;
    for (const float c : f.hist) {
        if (!(c >= 0))
            return false;
        sum += static_cast<double>(c);
    }
    const bool finite = std::isfinite(sum) && std::isfinite(f.all) && std::isfinite(f.t) &&
                        std::isfinite(f.n) && std::isfinite(f.excess);
    const bool ok = finite && f.all >= 0 && f.t >= 0 && f.n > 0 && f.peaks >= 0 && f.peaks <= f.n &&
                    f.excess >= 0 && f.clusters >= 0 && f.clusters <= f.peaks + 1;
    if (!ok)
        return false;
    *this = TailFit{};
    m_hist = f.hist;
    m_all = f.all;
    m_t = f.t;
    m_n = f.n;
    m_peaks = f.peaks;
    m_excess = f.excess;
    m_clusters = f.clusters;
    m_warm = kTailWarm;
    refresh();
    return true;
}

void TailCalibrator::learn(double s, double weight) noexcept {
    if (!(s >= 0))
        return;
    if (m_fit.ready()) {
        m_fit.learn(s, weight);
        return;
    }
    m_fit.m_hist[bin_of(s)] += static_cast<float>(weight);
    m_fit.m_all += weight;
    m_first[m_fit.m_warm++] = static_cast<float>(s);
    if (m_fit.m_warm == kTailWarm) {
        std::array<float, kTailWarm> sorted = m_first;
        m_fit.start(m_first.data(), kTailWarm, threshold_of(sorted.begin(), sorted.end()));
    }
}

} // namespace iots::detect
