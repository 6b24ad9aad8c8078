#include "iotshield/detect/kmeans.hpp"

#include <armadillo>

#include <algorithm>
#include <cmath>

namespace iots::detect {

namespace {
constexpr std::size_t kMinRows = 64;
constexpr std::size_t kMaxRowsPerModel = 20'000; // k-means on an even sample of the window
constexpr double kLevelMargin = 1.1; // unseen normal data runs a little above the training quantile

double nearest(const std::array<std::array<float, kKmeansDims>, kKmeansK>& c,
               const double* x) noexcept {
    double best = HUGE_VAL;
    for (const auto& centre : c) {
        double d = 0;
        for (std::size_t j = 0; j < kKmeansDims; ++j) {
            const double e = x[j] - static_cast<double>(centre[j]);
            d += e * e;
        }
        best = std::min(best, d);
    }
    return std::sqrt(best);
}
} // namespace

double KmeansEnsemble::agreement(const KmeansPoint& x) const noexcept {
    double a = HUGE_VAL;
    for (std::uint32_t m = 0; m < models; ++m)
        a = std::min(a, nearest(centres[m], x.data()) / level[m]);
    return models == 0 ? 0.0 : a;
}

bool KmeansState::observe(double value, KmeansPoint& x) noexcept {
    if (m_count == 0) {
        m_last = value;
        ++m_count;
        return false;
    }
    m_diffs[m_diff_head] = value - m_last;
    m_diff_head = static_cast<std::uint32_t>((m_diff_head + 1) % kKmeansSmooth);
    m_last = value;
    ++m_count;
    if (m_count <= kKmeansSmooth)
        return false;
    double s = 0;
    for (double d : m_diffs)
        s += d;
    m_smoothed[m_head] = s / static_cast<double>(kKmeansSmooth);
    m_head = static_cast<std::uint32_t>((m_head + 1) % kKmeansDims);
    if (m_count <= kKmeansSmooth + kKmeansDims)
        return false;
    for (std::size_t j = 0; j < kKmeansDims; ++j) // newest first
        x[j] = m_smoothed[(m_head + kKmeansDims - 1 - j) % kKmeansDims];
    return true;
}

KmeansEnsemble train_kmeans(const std::vector<double>& values,
                            const std::vector<std::size_t>& member_end, double quantile) {
    std::vector<double> rows;
    std::size_t from = 0;
    for (std::size_t end : member_end) {
        KmeansState st;
        KmeansPoint x{};
        for (std::size_t i = from; i < end && i < values.size(); ++i)
            if (st.observe(values[i], x))
                rows.insert(rows.end(), x.begin(), x.end());
        from = end;
    }
    const std::size_t n = rows.size() / kKmeansDims;
    KmeansEnsemble e;
    if (n < kKmeansModels * kMinRows)
        return e;
    const arma::mat all(rows.data(), kKmeansDims, n, false, true);
    std::vector<double> dist(n);
    for (std::size_t m = 0; m < kKmeansModels; ++m) {
        const std::size_t lo = n * m / kKmeansModels, hi = n * (m + 1) / kKmeansModels;
        const std::size_t step = std::max<std::size_t>(1, (hi - lo) / kMaxRowsPerModel);
        arma::uvec idx = arma::regspace<arma::uvec>(lo, step, hi - 1);
        const arma::mat window = all.cols(idx);
        arma::mat means;
        if (!arma::kmeans(means, window, kKmeansK, arma::static_spread, 10, false))
            return KmeansEnsemble{};
        for (std::size_t c = 0; c < kKmeansK; ++c)
            for (std::size_t j = 0; j < kKmeansDims; ++j)
                e.centres[m][c][j] = static_cast<float>(means(j, c));
        for (std::size_t i = 0; i < n; ++i)
            dist[i] = nearest(e.centres[m], all.colptr(i));
        const auto k =
            static_cast<std::size_t>(std::floor((1.0 - quantile) * static_cast<double>(n - 1)));
        std::nth_element(dist.begin(), dist.begin() + static_cast<std::ptrdiff_t>(k), dist.end());
        e.level[m] = std::max(kLevelMargin * dist[k], 1e-12);
    }
    e.models = kKmeansModels;
    return e;
}

} // namespace iots::detect
