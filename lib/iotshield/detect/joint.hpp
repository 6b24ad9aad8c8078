#pragma once
// The joint layer of one device: the relation between its numeric sensors, learnt online.
//
// A device's readings that share a timestamp form a row (the home node and the SKAB pump publish
// all their sensors with one ts). A row is complete when every known numeric channel has a value
// at that ts, or when a later ts starts (missing channels keep their last value). Each complete
// row is scored against an exponentially weighted mean and covariance of the rows before it
// (learning from the past only), by its Mahalanobis distance: Hotelling's T2 of one new
// observation, whose tail probability against the F distribution with the effective number of
// rows learnt is the small-sample correction (it tends to the chi-square tail as history grows).
// Rows of slow sensors are far from independent: the effective number of rows is the weighted
// count times (1 - rho) / (1 + rho), rho the channels' mean lag-one autocorrelation.
// Each channel's deviation is winsorised at `clip` standard deviations before the distance, so a
// single sensor's jump (a lamp switched on) weighs at most clip^2 unless it breaks its relation to
// correlated channels: single-series jumps are the streaming checks' job. A row holds the
// condition when its tail probability is under the level (`alpha`, made stricter by the
// calibration of JointLevels while the data's tails are heavier than a Gaussian's), or under its
// square root while the recent rows' evidence is high (a relation drifting apart); such rows are
// learnt with the weight `flagged_weight` only, so a fault in progress is not learnt as normal,
// while a lasting change still becomes the new normal after a bounded time.
//
// Binary sensors (flame, motion) are not channels; a device with fewer than two numeric channels
// is never scored (single-channel series stay silent). At most kJointChannels channels per
// device; further sensors are ignored.
//
// State is fixed-size and trivially copyable in memory; the state file holds only what is in use
// (save/load: the channels' names once, their statistics and the covariance's lower triangle),
// versioned by kStateVersion.
#include "iotshield/core/time.hpp"
#include "iotshield/detect/raw_state.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace iots::detect {

class ByteWriter; // file_format.hpp

inline constexpr std::size_t kJointChannels = 8;
inline constexpr std::size_t kJointNameMax = 64; // record::valid_name's limit

struct JointLevels {
    // Halflife of the mean and covariance, in rows: long enough that what a home did hours ago
    // is still part of normal, short enough to follow seasons and a changed appliance.
    double halflife_rows = 3000;
    // Tail probability of a row's T2 under which it holds the condition, per row (the onset
    // logic turns a run of such rows into one flag).
    double alpha = 1e-4;
    double clip = 4.0;              // winsorising level of each channel's deviation, in its sd
    double ridge = 0.05;            // added to the covariance's diagonal, relative to it
    double flagged_weight = 0.1;    // learning weight of a row that holds the condition
    std::uint32_t warmup_rows = 32; // effective rows learnt before the layer speaks
    // An event of the layer starts on a row under the level, or on a row under
    // level^hold_exponent while the recent rows' evidence (-ln p averaged over about
    // evidence_rows rows, each capped at twice the level's) is above hold_evidence (normal rows
    // average 1): a relation that drifts apart shows as a stretch of moderately unlikely rows
    // before any one row is extreme. Hysteresis: the event goes on while either holds alone: a
    // changed relation shows in some rows and not in others (where the channels happen to
    // agree), and is one event.
    double hold_exponent = 0.5;
    double evidence_rows = 20;
    double hold_evidence = 3;
    // Calibration to the data's own tails: each onset makes the level this many decades
    // stricter, and it relaxes again by onset_raise * onsets_per_day decades a day (in the
    // device's own row interval), back to alpha at most. Where the Gaussian level is too
    // sensitive for the data (a home's routines), onsets settle near onsets_per_day.
    double onset_raise = 2.0;
    double onsets_per_day = 0.2;
};

// The onset state of the layer's own events (the detector's onset logic runs on it).
struct JointEvent {
    bool active = false;
    std::uint16_t quiet = 0;
};

// What one reading did to its device's joint layer.
struct JointStep {
    bool scored = false;         // the reading completed a row that was scored
    bool holds = false;          // ... and its tail probability is under the layer's level
    double score = 0;            // ln p / ln level mapped to r / (1 + r): the level is 0.5
    double log_p = 0;            // ln of the row's tail probability
    JointEvent* event = nullptr; // the device's onset state, when scored
    // Another reading of the row was flagged already (noted before this one): an onset here
    // would say again what a single series said.
    bool row_flagged = false;
};

class JointState {
public:
    // 1: the struct's raw bytes (1,344); 2: save()'s layout.
    static constexpr std::uint32_t kStateVersion = 2;

    // One reading of the device. Readings older than the row being assembled are ignored.
    JointStep observe(core::Millis ts, std::string_view sensor, double value,
                      const JointLevels& levels) noexcept;
    // The verdict of the reading just observed (any sensor of the device): whether it flagged.
    void note_flag(bool anomaly) noexcept {
        m_row_flagged = m_row_flagged || (anomaly && m_row_open);
    }

    [[nodiscard]] std::size_t channels() const noexcept { return m_channels; }
    // Read back from a state file: counts, name sizes and bools in range.
    [[nodiscard]] bool state_valid() const noexcept {
        if (m_channels > kJointChannels || !valid_bool(m_row_open) || !valid_bool(m_row_flagged) ||
            !valid_bool(m_event.active) || !valid_time(m_row_ts))
            return false;
        for (std::uint8_t n : m_name_size)
            if (n > kJointNameMax)
                return false;
        return true;
    }
    // The state file's layer: u8 channels k; per channel u8 name size and the name; u8 the open
    // row's channels (bit mask), u8 flags (row open 1, row flagged 2, event active 4), u16 the
    // event's quiet count, i64 the row's ts, f64 interval, raise, evidence, weight; per channel
    // f64 latest value, mean, previous learnt value, lag-one autocovariance; the covariance's
    // lower triangle by rows (k (k + 1) / 2 f64). All little-endian, values bit for bit: 91
    // bytes for a device of one channel named "value", 284 for the simulator's four numeric
    // sensors (1,344 as the struct's raw bytes). What is not saved
    // (channels beyond k) is zero in every state observe() makes.
    void save(ByteWriter& w) const;
    // false: not a state save() could have written (sizes, counts, flags or time out of range);
    // *this is then unchanged.
    [[nodiscard]] bool load(std::string_view bytes);

    // Rows learnt, weighted (the effective history, at most about 1.44 halflives).
    [[nodiscard]] double weight() const noexcept { return m_weight; }
    [[nodiscard]] double mean(std::size_t channel) const noexcept { return m_mean[channel]; }

private:
    // The channel of a sensor, adding it when there is room; -1: not a channel.
    int channel(std::string_view sensor) noexcept;
    JointStep close_row(const JointLevels& levels) noexcept;
    [[nodiscard]] double
    effective_rows(std::size_t k,
                   const std::array<std::size_t, kJointChannels>& act) const noexcept;
    void learn(double weight, const JointLevels& levels) noexcept;

    std::array<std::array<char, kJointNameMax>, kJointChannels> m_names{};
    std::array<std::uint8_t, kJointChannels> m_name_size{};
    std::array<double, kJointChannels> m_row{}; // latest value of each channel
    std::array<double, kJointChannels> m_mean{};
    std::array<std::array<double, kJointChannels>, kJointChannels> m_cov{};
    std::array<double, kJointChannels> m_prev{}; // the previous learnt row
    std::array<double, kJointChannels> m_lag{};  // lag-one autocovariance of each channel
    core::Millis m_row_ts = 0;
    double m_interval = 0; // typical ms between rows (exponentially weighted)
    double m_raise = 0;    // decades the level is above alpha (the calibration)
    double m_evidence = 0; // recent rows' -ln p (exponentially averaged)
    double m_weight = 0;   // exponentially weighted count of learnt rows
    std::uint32_t m_channels = 0;
    std::uint32_t m_pending = 0; // channels with a value at m_row_ts (bit mask)
    bool m_row_open = false;
    bool m_row_flagged = false; // a reading of the open row was flagged
    JointEvent m_event;
};

static_assert(std::is_trivially_copyable_v<JointState>);
static_assert(sizeof(JointState) <= 2048);

// ln of the upper tail P(F > f) of Fisher's F distribution with d1, d2 degrees of freedom
// (d1, d2 > 0; 0 for f <= 0).
[[nodiscard]] double log_f_tail(double f, double d1, double d2) noexcept;

} // namespace iots::detect
