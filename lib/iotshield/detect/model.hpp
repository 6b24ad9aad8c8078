#pragma once
// A trained model: per series (or per sensor kind) an isolation forest, its score threshold at the
// user's false-alarm rate, and the streaming levels calibrated on the same normal data. Training
// is a pure function of the history and the options (seeded, deterministic).
#include "iotshield/core/time.hpp"
#include "iotshield/core/zone.hpp"
#include "iotshield/detect/activity.hpp"
#include "iotshield/detect/iforest.hpp"
#include "iotshield/detect/kmeans.hpp"
#include "iotshield/detect/params.hpp"
#include "iotshield/detect/profile.hpp"
#include "iotshield/detect/series.hpp"
#include "iotshield/detect/tail.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace iots::detect {

enum class Scope : std::uint8_t { series = 0, kind = 1 };

// The statistics whose tail over the training data a model keeps (SeriesModel::tails): those of
// its own checks (the first kModelChecks), and the z and spike statistics the online layer also
// judges (a z that training saw often is not rare, however new to a fresh online layer).
enum class ModelStat : std::uint8_t { profile, forest, activity, z, spike };
inline constexpr std::size_t kModelStats = 5;
inline constexpr std::size_t kModelChecks = 3;
[[nodiscard]] std::string_view scope_name(Scope s) noexcept;

struct SeriesModel {
    std::string device; // empty in a per-kind model: applies to every device
    std::string sensor;
    std::uint64_t rows = 0; // training rows (readings that produced features)
    core::Millis first_ts = 0;
    core::Millis last_ts = 0;
    double threshold = 1.0; // forest score at which a reading is anomalous
    SeriesLevels levels;
    double normal_min = 0;
    double normal_max = 0;
    std::int64_t interval_ms = 0; // median sampling interval in training
    // Training score distribution: p50, p90, p99, p99.9, max.
    std::array<double, 5> score_quantiles{};
    // Time-of-day profile and its CUSUM level (calibrated like the other levels); the training
    // maximum of the statistic, for the summary.
    Profile profile;
    double profile_train_max = 0;
    // Event series only: the most activity seen per hour of the day (activity.hpp).
    ActivityProfile activity;
    // Numeric series only: the k-means ensemble on the recent shape (kmeans.hpp).
    KmeansEnsemble kmeans;
    // Per ModelStat, the tail of the statistic over the training data: the profile's statistic,
    // the forest's score, the activity count over its hour's level, z and spike. Not ready (a
    // version 3 or 4 file, under kTailWarm training values, no such layer): that check flags at
    // its level, the online layer's z and spike at their own tails alone.
    std::array<TailFit, kModelStats> tails{};
    Forest forest;
};

struct Model {
    // 2: time-of-day profile per series; 3: activity levels of event series, k-means ensemble;
    // 4: the time zone of the profiles (version 3 files read as UTC); 5: the tails of the
    // model's statistics (older files: not ready)
    static constexpr std::uint32_t kFormatVersion = 5;
    ForestParams params;
    double false_alarm_rate = 0.1; // false alarms per series and day, per check
    Scope scope = Scope::series;
    core::Millis train_from = 0;
    core::Millis train_to = 0;
    // The IANA zone the time-of-day features, profiles and activity levels were learnt in.
    std::string zone = "UTC";
    std::vector<SeriesModel> series;

    // The series' own model, else the per-kind model for its sensor, else nullptr.
    [[nodiscard]] const SeriesModel* find(std::string_view device,
                                          std::string_view sensor) const noexcept;
};

// One series' history; need not be sorted.
struct History {
    std::string device;
    std::string sensor;
    std::vector<core::Millis> ts;
    std::vector<double> values;
};

struct TrainOptions {
    ForestParams forest;
    double false_alarm_rate = 0.1;
    Scope scope = Scope::series;
    SafetyLevels safety;
    StreamLevels stream;
    std::size_t min_rows = 64; // fewer feature rows: no forest for that group
    bool kmeans = false;       // train the k-means ensemble of numeric series (kmeans.hpp)
    core::Zone zone;           // the home's clock: hours and weekends of the profiles
};

struct TrainedGroup {
    std::string device, sensor;
    std::uint64_t readings = 0; // readings given
    std::uint64_t rows = 0;     // feature rows used (past warm-up, in order, not duplicated)
    bool skipped = false;       // too few rows
};

struct TrainResult {
    Model model;
    std::vector<TrainedGroup> groups;
};

// Throws std::invalid_argument for bad options (e.g. a false-alarm rate <= 0).
[[nodiscard]] TrainResult train(std::vector<History> histories, const TrainOptions& options);

// The features of one series, one point per reading, as detection computes them.
struct FeatureMatrix {
    std::vector<double> values; // column-major: `rows` features of point 0, then of point 1, ...
    std::size_t rows = 0, cols = 0;
    [[nodiscard]] Points points() const noexcept { return {values.data(), rows, cols}; }
};
// Sorts h.
[[nodiscard]] FeatureMatrix feature_matrix(History& h, const SafetyLevels& safety,
                                           const StreamLevels& stream, const core::Zone& zone = {});

} // namespace iots::detect
