#pragma once
// The day's-summary check of one series (issue 12): the class of anomalies where the daily
// pattern itself changes (a cycle that stops, a daily peak that drops, a night that no longer
// falls), which no single reading shows.
//
// Per local day (the home's wall time) it keeps the day's maximum, minimum and mean so far, and
// of the last kSummaryDays complete days the same three numbers. From a week of complete days on
// (kSummaryArmDays: a first weekend must not be judged by weekdays alone), each
// summary is compared with the robust distribution of the previous days' (median, and as scale
// 1.4826 x their MAD, at least a tenth of the days' median range and the series' typical step):
// a summary is impossible when it lies more than kSummaryK scales from the median and half a
// scale beyond every previous day's. Flagged once, at the first reading that makes it so: the
// maximum so far above the usual maxima, or the minimum so far below the usual minima, at that
// reading; the day's maximum below the usual maxima, its minimum above the usual minima, or its
// mean off, at the first reading of the next day (when the day is known whole). A day counts as
// complete when its readings span kCompleteMs of it and it has at least half as many readings as
// the last complete one. The same direction of the same summary is not flagged two days in a row:
// a lasting change is flagged at its onset and becomes the normal as the days pass (every
// complete day is learnt, flagged or not, so after kSummaryDays / 2 days it is the median).
// Fixed size, trivially copyable (the --state file stores it as raw bytes).
#include "iotshield/core/time.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace iots::detect {

inline constexpr std::size_t kSummaryDays = 7;
inline constexpr double kSummaryK = 4.0;
// Days judged from a full week on: a home's first weekend is not judged by its weekdays.
inline constexpr std::size_t kSummaryArmDays = kSummaryDays;
inline constexpr std::int64_t kCompleteMs = 20 * 3'600'000LL;

// Bits of DaySummary::observe's result (and of its flags): which summary, which way.
enum DaySummaryBit : std::uint8_t {
    kMaxHigh = 1U << 0, // the maximum so far above every usual maximum
    kMinLow = 1U << 1,  // the minimum so far below every usual minimum
    kMaxLow = 1U << 2,  // the day's maximum (the daily peak) below the usual
    kMinHigh = 1U << 3, // the day's minimum above the usual (a trough that no longer falls)
    kMeanHigh = 1U << 4,
    kMeanLow = 1U << 5,
};

class DaySummary {
public:
    static constexpr std::uint32_t kStateVersion = 2;

    // One in-order reading at `local` (the home's wall time, core::Zone::local). Returns the
    // DaySummaryBit bits that become impossible at this reading (0 nearly always). `alarm`: a
    // safety threshold holds at this reading (a fire's heat): its day is judged but not learnt as
    // a usual day, since a fire's peak says nothing of the room's usual maximum and would hide
    // every failure short of another fire for a week; nor does it hold the next day's flags back.
    // `outlier`: the reading is off its neighbours (a spike, a z-score flag): it counts towards
    // the day's completeness but is no part of its maximum, minimum or mean, judged or learnt (a
    // glitch of one reading is not the day's peak, and would widen the usual peaks for a week).
    std::uint8_t observe(core::Millis local, double value, bool alarm = false,
                         bool outlier = false) noexcept;

    [[nodiscard]] std::size_t days() const noexcept { return m_days; }
    [[nodiscard]] bool state_valid() const noexcept;

    // Robust centre and scale of n >= 1 values (median, 1.4826 MAD), for the checks and tests.
    struct Robust {
        double median = 0;
        double scale = 0;
        double lo = 0; // smallest and largest value
        double hi = 0;
    };
    [[nodiscard]] static Robust robust(const float* v, std::size_t n) noexcept;

private:
    void learn_step(double value) noexcept;
    void close_day() noexcept; // learns the day just ended; sets the limits of the next
    [[nodiscard]] std::uint8_t check_closed() const noexcept;

    // The last kSummaryDays complete days, ring: maximum, minimum, mean.
    std::array<std::array<float, kSummaryDays>, 3> m_hist{};
    std::uint32_t m_head = 0;
    std::uint32_t m_days = 0;             // complete days learnt (at most kSummaryDays kept)
    std::uint32_t m_n = 0;                // readings of the current day
    std::uint32_t m_summed = 0;           // ... of them in its maximum, minimum and mean
    std::uint32_t m_last_n = 0;           // readings of the last complete day
    std::int64_t m_day = 0;               // the current local day (days since the epoch)
    core::Millis m_first = 0, m_last = 0; // local times of the current day's first and last reading
    double m_max = 0, m_min = 0, m_sum = 0;
    double m_step = 0;   // EW mean non-zero |first difference|
    double m_value = 0;  // the previous reading
    double m_hi_max = 0; // limits for the current day, from close_day (valid if m_armed)
    double m_lo_min = 0;
    std::uint8_t m_flags = 0;      // what was impossible today (flagged or held back)
    std::uint8_t m_prev_flags = 0; // ... yesterday
    bool m_armed = false;
    bool m_started = false;
    bool m_alarm = false; // a safety threshold held today: the day is not learnt
};
static_assert(std::is_trivially_copyable_v<DaySummary>);

} // namespace iots::detect
