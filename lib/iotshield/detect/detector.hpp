#pragma once
// The streaming detector: per series state, the model's forest when there is one, and fusion
// into one score in [0, 1], an anomaly flag and reason codes (DESIGN §2).
//
// Flags: a safety threshold flags every reading while the danger lasts. Every other check flags
// the ONSET of an event only: the first reading where some check holds after at least
// `clear_after` readings where none held (scored like the Numenta Anomaly Benchmark: a window
// counts once, early is better, every flag outside a window costs).
// The z-score and spike checks, and the online layer's level, daily and volatility statistics,
// hold when their calibrated tail probability is below the series' target (online.hpp); so do
// the model's profile, forest and activity statistics, above the model's levels, against their
// tails on the training data (SeriesModel::tails).
// The series' budget is shared by all of its statistics: 7 online, 3 more with a model.
// Score: 1 for a safety threshold; else the largest of the checks' scores, each mapped so that
// its own level is 0.5 (r / (1 + r) for a ratio r of statistic to level; the online layer's
// surprise ln(1/p) against ln(1/q); the forest's score piecewise linearly with its threshold at
// 0.5).
#include "iotshield/core/zone.hpp"
#include "iotshield/detect/day_summary.hpp"
#include "iotshield/detect/joint_layer.hpp"
#include "iotshield/detect/model.hpp"
#include "iotshield/detect/online.hpp"
#include "iotshield/detect/params.hpp"
#include "iotshield/detect/raw_state.hpp"
#include "iotshield/detect/series.hpp"
#include "iotshield/detect/variance.hpp"
#include "iotshield/record/reading.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace iots::detect {

// Reason bits of the layers above the streaming checks (series.hpp has bits 0 to kReasonCount-1).
enum LayerReason : std::uint16_t {
    kActivity = 1U << 10, // an event series busier than it ever is at this hour
    kKmeans = 1U << 11,   // every k-means model of the ensemble finds the recent shape unusual
    // The online layer's own statistics (online.hpp); it also sets kZscore and kSpike.
    kLevel = 1U << 12,      // far from the level learnt over the last days
    kDaily = 1U << 13,      // far from what this hour of the day looks like
    kVolatility = 1U << 14, // a stretch of unusual readings: variance or activity changed
    kJoint = 1U << 15,      // the device's row of numeric sensors breaks their learnt relation
};
inline constexpr std::size_t kAllReasonCount = 16;

struct DetectorOptions {
    SafetyLevels safety;
    StreamLevels stream;
    OnlineLevels online;
    core::Zone zone;
    JointLevels joint;
};

struct Verdict {
    static constexpr std::uint32_t kStateVersion = 1; // state file layer (state_file.hpp)

    double score = 0;
    bool anomaly = false;
    std::uint16_t reasons = 0; // Reason bits holding at this reading

    [[nodiscard]] bool state_valid() const noexcept {
        return valid_bool(anomaly) && score >= 0 && score <= 1;
    }
};

class Detector {
public:
    // model may be null (streaming checks only); it must outlive the detector.
    explicit Detector(DetectorOptions options = {}, const Model* model = nullptr);

    [[nodiscard]] Verdict score(core::Millis ts, std::string_view device, std::string_view sensor,
                                double value);
    // Sets r.score, r.anomaly and r.reasons (reusing the vector's storage).
    Verdict annotate(record::Reading& r);

    [[nodiscard]] std::size_t series_count() const noexcept { return m_series.size(); }
    [[nodiscard]] const DetectorOptions& options() const noexcept { return m_options; }

    struct Series {
        SeriesState state;
        OnlineState online;
        DaySummary day;         // the day's-summary check
        VarianceCheck variance; // the change-of-variance check
        ProfileState profile;
        const SeriesModel* model = nullptr;
        SeriesLevels levels;
        bool event = false; // a non-safety event is in progress
        std::uint16_t quiet = 0;
        // The profile layer's own event: its slow statistic must not hide the onset of a spike
        // or a stuck sensor inside a long deviation, nor they its onset.
        bool profile_event = false;
        std::uint16_t profile_quiet = 0;
        // The activity layer of an event series, with its own onsets like the profile's; a
        // motion sensor without a model's activity profile learns its levels online.
        ActivityState activity;
        LearntActivity learnt_activity;
        KmeansState kmeans;
        bool activity_event = false;
        std::uint16_t activity_quiet = 0;
        Verdict last;
    };

private:
    friend struct StateAccess; // state_file.cpp: saves and restores the series

    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    struct Eq {
        using is_transparent = void;
        bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
    };

    using SeriesMap = std::unordered_map<std::string, std::unique_ptr<Series>, Hash, Eq>;
    Series& find_series(std::string_view device, std::string_view sensor);
    // Runs the online layer over an in-order reading: sets its bits in cond, returns its score.
    double online_layer(Series& s, core::Millis ts, core::Millis local, double value,
                        const Observation& obs, std::uint16_t& cond) noexcept;
    SeriesMap::iterator add_series(std::string_view device, std::string_view sensor); // m_key

    // An index of m_series by (device, sensor) that needs no joined key built per reading: open
    // addressing, at most half full; a miss falls back to m_series (which owns the series).
    struct Slot {
        std::uint64_t hash = 0;
        const std::string* key = nullptr; // "device/sensor", m_series' own key
        Series* series = nullptr;
    };
    void index(std::uint64_t hash, const std::string& key, Series& series);

    DetectorOptions m_options;
    const Model* m_model;
    SeriesMap m_series;
    JointLayer m_joint; // per device, online: needs no model
    std::string m_key;
    std::vector<Slot> m_index;
    std::size_t m_indexed = 0;
};

// "zscore", ..., "activity", "kmeans", "joint" for bit i (0-based); empty past the last.
[[nodiscard]] std::string_view layer_reason_name(std::size_t bit) noexcept;
// Appends the reason names of `bits` to out, in bit order.
void reason_names(std::uint16_t bits, std::vector<std::string>& out);

} // namespace iots::detect
