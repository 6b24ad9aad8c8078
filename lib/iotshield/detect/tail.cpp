#include "iotshield/detect/tail.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

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

void TailCalibrator::refresh() noexcept {
    // A tail with no peak yet is as thin as one peak at the threshold's own scale: the first
    // value beyond everything seen is then surprising but not infinitely so.
    const double peaks = std::max(m_peaks, 1.0);
    const double excess = m_excess > 0 ? m_excess : peaks * std::max(m_t, 1e-12);
    m_log_frac = std::log(std::max(m_n, peaks) / peaks);
    m_inv_mean = peaks / excess;
    m_log_theta = std::log(std::clamp(std::max(m_clusters, 1.0) / peaks, kMinTheta, 1.0));
}

void TailCalibrator::learn(double s, double weight) noexcept {
    if (!(s >= 0))
        return;
    m_hist[bin_of(s)] += static_cast<float>(weight);
    m_all += weight;
    if (m_warm < kTailWarm) {
        m_first[m_warm++] = static_cast<float>(s);
        if (m_warm == kTailWarm) {
            std::array<float, kTailWarm> sorted = m_first;
            const auto k = static_cast<std::size_t>(kTailQuantile * kTailWarm);
            std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(k),
                             sorted.end());
            m_t = static_cast<double>(sorted[k]);
            for (const float f : m_first) {
                const auto v = static_cast<double>(f);
                m_n += 1;
                if (v > m_t) {
                    m_peaks += 1;
                    m_excess += v - m_t;
                    m_clusters += m_in_peak ? 0.0 : 1.0;
                }
                m_in_peak = v > m_t;
            }
            refresh();
        }
        return;
    }
    m_n += weight;
    if (s > m_t) {
        m_peaks += weight;
        m_excess += weight * (s - m_t);
        m_clusters += m_in_peak ? 0.0 : weight;
        refresh();
    }
    m_in_peak = s > m_t;
    if (m_n >= kTailHalve) {
        m_n *= 0.5;
        m_peaks *= 0.5;
        m_excess *= 0.5;
        m_clusters *= 0.5;
        m_all *= 0.5;
        for (float& c : m_hist)
            c *= 0.5F;
        refresh();
    }
}

double TailCalibrator::surprise(double s, double cut) const noexcept {
    if (!ready() || !(s > m_t))
        return 0;
    const double fit = m_log_frac + (s - m_t) * m_inv_mean;
    if (!(fit > cut))
        return fit;
    double seen = 0;
    for (std::size_t i = bin_of(s) + 1; i < kTailBins; ++i)
        seen += static_cast<double>(m_hist[i]);
    // A lower confidence bound on the count (k - sqrt k): one earlier value proves nothing.
    const double k = seen - std::sqrt(seen);
    return k > 0 ? std::min(fit, std::log(m_all / k)) : fit;
}

} // namespace iots::detect
