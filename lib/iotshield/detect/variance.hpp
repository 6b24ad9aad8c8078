#pragma once
// The change-of-variance check of one series (issue 12): a series whose noise grows several times
// over and stays so (a service that starts to thrash, a pump that starts to shake, a level that
// moves while the window straddles it), which neither a single reading nor the day's summary
// shows.
//
// Its statistic is r = ln(s / S): s the robust scale of the last kWindow readings (1.4826 x their
// MAD, at least half the series' typical non-zero step, so a quantised or flat series has a
// unit), S the long-run scale, an exponentially weighted mean of ln s (time constant
// kVarianceRate readings), with D the same mean of |r|: how much the scale usually moves. r is
// unusual above max(ln kVarianceMinRatio, kVarianceK x D), and is flagged when it is also
// ln kVarianceNovelty beyond the largest usual r of the last week: a maximum of every r not
// unusual (and of every r in the warm-up), which sinks by ln kVarianceNovelty a week (by the
// readings' time), so that a scale that swings by nature (a square wave whose edges the window
// straddles, day and night) is not news. An unusual r is not learnt into it: a fault that
// hovers, or a first false start, does not hide the change that follows; the price is that a
// swing larger than the level that recurs (a lamp, a shower) is news each time it is rearmed
// (the detector leaves light sensors out). Once, at the onset: rearmed after kWindow readings
// back under half the level. A change that lasts kVarianceAdopt readings is adopted (S jumps to
// the scale of the moment); meanwhile what it does is learnt with a tenth of the weight. Judged
// from kVarianceWarm readings on. The window's scale costs a pass over the window: it is looked
// at every kVarianceEvery readings (due()), the step learnt at every reading.
// Fixed size, trivially copyable (the --state file stores it as raw bytes).
#include "iotshield/core/time.hpp"

#include <cstdint>
#include <type_traits>

namespace iots::detect {

inline constexpr double kVarianceRate = 1.0 / 512.0;
inline constexpr double kVarianceMinRatio = 3.0;
inline constexpr double kVarianceK = 4.0;
inline constexpr double kVarianceNovelty = 1.5;
inline constexpr std::int64_t kVarianceMaxSinkMs = 7 * 86'400'000LL; // ln kVarianceNovelty
inline constexpr std::uint32_t kVarianceWarm = 288;
inline constexpr std::int64_t kVariancePendingMs = 86'400'000; // unusual r learnt a day on
inline constexpr std::uint32_t kVarianceAdopt = 128;
inline constexpr std::uint32_t kVarianceEvery = 8;

class VarianceCheck {
public:
    static constexpr std::uint32_t kStateVersion = 1;

    // Whether the next reading is one where the window's scale is looked at.
    [[nodiscard]] bool due() const noexcept { return m_n % kVarianceEvery == kVarianceEvery - 1; }
    // One in-order reading at ts (UTC): its value and, where due(), the robust scale of the last
    // kWindow readings (SeriesState::window_scale); negative where not due or the window is not
    // full (only the step is learnt). True at the onset of a change.
    bool observe(core::Millis ts, double value, double window_scale,
                 core::Millis quiet_ms = 0) noexcept;

    [[nodiscard]] std::uint64_t readings() const noexcept { return m_n; }
    // The statistic at the last reading (0 before the long-run scale is known).
    [[nodiscard]] double ratio() const noexcept { return m_r; }
    [[nodiscard]] bool state_valid() const noexcept;

private:
    void learn_step(double value) noexcept;

    double m_log_scale = 0; // S, as ln
    double m_dev = 0;       // D
    double m_max = 0;       // the sinking maximum of r
    double m_r = 0;
    double m_step = 0; // EW mean non-zero |first difference|
    double m_value = 0;
    std::uint64_t m_n = 0;
    core::Millis m_look = 0;  // the time of the last look
    core::Millis m_first = 0; // the time of the first reading
    double m_pending = 0;     // the largest unusual r since m_pending_since, learnt a day on
    core::Millis m_pending_since = 0;
    bool m_pending_set = false;
    std::uint32_t m_high = 0; // looks in a row at or above half the level
    std::uint32_t m_low = 0;  // ... below it
    bool m_known = false;     // m_log_scale set
    bool m_armed = true;
};
static_assert(std::is_trivially_copyable_v<VarianceCheck>);

} // namespace iots::detect
