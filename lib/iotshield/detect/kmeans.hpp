#pragma once
// A k-means ensemble per series in the manner of Netdata's anomaly detector: the feature vector
// of a reading is the last kKmeansLags + 1 values of the first difference smoothed over
// kKmeansSmooth readings (the recent shape of the series, free of its level), k-means with
// kKmeansK centres is fitted on each of kKmeansModels successive windows of the training
// history, and a reading is unusual only when its distance to the nearest centre is above the
// model's level for every model of the ensemble. Each level is the distance quantile at the
// user's false-alarm rate over the whole training history.
#include "iotshield/core/time.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace iots::detect {

inline constexpr std::size_t kKmeansSmooth = 3;
inline constexpr std::size_t kKmeansLags = 5;
inline constexpr std::size_t kKmeansDims = kKmeansLags + 1;
inline constexpr std::size_t kKmeansK = 2;
inline constexpr std::size_t kKmeansModels = 3;

using KmeansPoint = std::array<double, kKmeansDims>;

struct KmeansEnsemble {
    std::uint32_t models = 0; // 0: none
    // models x kKmeansK centres of kKmeansDims values, then a level per model.
    std::array<std::array<std::array<float, kKmeansDims>, kKmeansK>, kKmeansModels> centres{};
    std::array<double, kKmeansModels> level{};

    [[nodiscard]] bool empty() const noexcept { return models == 0; }
    // min over the models of (distance to the nearest centre / level): > 1 when all agree.
    [[nodiscard]] double agreement(const KmeansPoint& x) const noexcept;
};

// Per-series state: fixed size, no allocation.
class KmeansState {
public:
    static constexpr std::uint32_t kStateVersion = 1; // state file layer (state_file.hpp)

    // Feeds one in-order reading; true when x holds a full feature vector.
    bool observe(double value, KmeansPoint& x) noexcept;
    [[nodiscard]] bool state_valid() const noexcept {
        return m_diff_head < kKmeansSmooth && m_head < kKmeansDims;
    }

private:
    std::array<double, kKmeansSmooth> m_diffs{};
    std::array<double, kKmeansDims> m_smoothed{};
    double m_last = 0;
    std::uint32_t m_count = 0;
    std::uint32_t m_diff_head = 0;
    std::uint32_t m_head = 0;
};

// Trains on in-order readings (members one after another, `member_end` ends each); `quantile`
// is the per-reading share of false alarms allowed. Deterministic. Empty when there are too few
// readings (fewer than 64 feature vectors per model).
[[nodiscard]] KmeansEnsemble train_kmeans(const std::vector<double>& values,
                                          const std::vector<std::size_t>& member_end,
                                          double quantile);

} // namespace iots::detect
