#include "iotshield/detect/online.hpp"

#include "iotshield/core/zone.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace iots::detect {

namespace {
constexpr double kHourMs = 3'600'000.0;
constexpr double kDown = 0.1; // learning weight of anomalous readings
constexpr double kVolatilityRate = 1.0 / 24.0;
constexpr double kVolatilityClip = 10.0;
constexpr double kClipSpreads = 4.0; // winsorising of the level and profile updates
constexpr double kProfileRate = 0.1; // per reading, at most
constexpr std::int64_t kDailyAfterMs = 2 * 86'400'000LL;
constexpr std::uint64_t kVolatilityAfter = 32;
constexpr double kProfileRaise = 4.605; // ln 100: two decades, as the joint layer's onset_raise
constexpr std::uint32_t kAdoptReadings = 64; // kWindow: the median of the new regime
constexpr double kNever = 1e300;
constexpr int kJumpLowest = -6; // the jump histograms' first bin: 2^-6 of the unit
// A weekend's offset from the daily profile is trusted in the part days / (days + this) of it,
// days being the weekend days it was learnt on: a prior that shrinks a young series' weekend
// hours toward its weekdays'. The part not yet trusted widens the spread instead.
constexpr double kWeekendPriorDays = 2.0;

bool weekend(core::Millis local) noexcept {
    return core::local_weekday(local) >= 5; // Saturday, Sunday
}

double tiny(double x) noexcept {
    return 1e-9 * (1.0 + std::fabs(x));
}

// One robust EW step of a (centre, spread) pair: the deviation is clipped at kClipSpreads
// spreads, the spread is 1.25 x the mean absolute deviation (sigma for a normal).
template <typename T> void robust_step(T& centre, T& spread, double x, double a) noexcept {
    const double dev = x - static_cast<double>(centre);
    const double sp = spread > 0 ? static_cast<double>(spread) : std::fabs(dev);
    const double lim = kClipSpreads * sp;
    centre = static_cast<T>(static_cast<double>(centre) + a * std::clamp(dev, -lim, lim));
    spread =
        static_cast<T>(static_cast<double>(spread) +
                       a * (1.25 * std::min(std::fabs(dev), lim) - static_cast<double>(spread)));
}
} // namespace

OnlineVerdict OnlineState::observe(const OnlineInput& in, const OnlineLevels& levels,
                                   bool event) noexcept {
    std::array<double, kOnlineStats> stat{};
    std::array<bool, kOnlineStats> valid{};
    const double x = in.value;
    const double dt = m_n > 0 ? static_cast<double>(in.ts - m_last_ts) : 0.0;
    stat[0] = in.z;
    valid[0] = in.z_valid;
    stat[1] = in.spike;
    valid[1] = in.spike_valid;
    if (m_n > 0) {
        const double unit = std::max({m_spread, m_step, tiny(m_level)});
        stat[2] = std::fabs(x - m_level) / unit;
        valid[2] = true;
        m_volatility += kVolatilityRate * (std::min(stat[2], kVolatilityClip) - m_volatility);
        stat[4] = m_volatility;
        valid[4] = m_n > kVolatilityAfter;
        const auto h = static_cast<std::size_t>(core::local_hour(in.local));
        if (in.ts - m_first >= kDailyAfterMs && m_bucket_n[h] > 0) {
            const auto [c, spread] = expected(in.local);
            stat[3] = std::fabs(x - c) / std::max({spread, m_step, tiny(c)});
            valid[3] = true;
        }
        if (dt > 0)
            m_interval = m_interval > 0 ? m_interval + 0.02 * (dt - m_interval) : dt;
        if (dt > 0 && m_profile_raise > 0)
            m_profile_raise =
                static_cast<float>(std::max(0.0, static_cast<double>(m_profile_raise) -
                                                     kProfileRaise * levels.per_day * dt / kDayMs));
    }
    stat[5] = in.gap;
    valid[5] = in.gap_valid;
    stat[6] = static_cast<double>(in.run);
    valid[6] = in.run > 0;
    if (in.binary) // the activity and profile layers judge the values of 0/1 series
        valid = {false, false, false, false, false, in.gap_valid, false};
    // The series' budget per reading, shared by its statistics (Bonferroni).
    m_q = std::clamp(levels.per_day * m_interval / kDayMs, levels.q_min, levels.q_max);
    const double need =
        std::log((static_cast<double>(kOnlineStats) + std::max(levels.other_stats, 0)) / m_q);
    const std::array<double, kOnlineStats> floor{
        levels.z_floor,          levels.spike_floor, levels.z_floor,         levels.z_floor,
        levels.volatility_floor, levels.gap_floor,   in.stuck ? 0.0 : kNever};
    const std::array<const TailFit*, kOnlineStats> prior{
        in.z_prior, in.spike_prior, in.z_prior, in.z_prior, nullptr, nullptr, nullptr};
    const auto common = [&need](const TailFit* t, double at) {
        const double cut = need + t->log_extremal_index();
        return t->ready() && !(t->surprise(at, cut) > cut);
    };

    // A z, spike or daily deviation no larger than jumps the series makes often (in its
    // direction) is its own switching, not news. Asked only past the floors (rare).
    const auto switching = [&](std::size_t i) {
        if (m_n == 0 || !(m_jump_unit > 0))
            return false;
        if (i == 0)
            return jump_surprise(x - in.median) <= need;
        if (i == 1)
            return jump_surprise(x - m_last_value) <= need;
        if (i == 3)
            return jump_surprise(x - expected(in.local).first) <= need;
        return false;
    };

    OnlineVerdict v;
    double top = 0;
    for (std::size_t i = 0; i < kOnlineStats; ++i) {
        if (!valid[i])
            continue;
        if (stat[i] > floor[i] && (prior[i] == nullptr || !common(prior[i], stat[i])) &&
            !switching(i)) {
            const double s = m_tails[i].surprise(stat[i], need + m_tails[i].log_extremal_index());
            top = std::max(top, s);
            if (s > need + m_tails[i].log_extremal_index())
                v.holds = static_cast<std::uint8_t>(v.holds | (1U << i));
        }
    }
    if (in.ts - m_first < levels.learn_first_ms) {
        v.holds = 0;
        top = 0;
    }
    constexpr std::uint8_t kAdopted = (1U << 2) | (1U << 3) | (1U << 4); // level, daily, volatility
    const bool adopting = in.ts < m_adopted_until;
    if (adopting)
        v.holds = static_cast<std::uint8_t>(v.holds & ~kAdopted);
    v.score = std::min(1.0, 0.5 * top / need);
    const bool down = v.holds != 0 || (event && !adopting);
    if (!down) {
        m_down_n = 0;
    } else if (m_down_n++ == 0) {
        m_down_since = in.ts;
    } else if (levels.adopt_ms > 0 && m_down_n >= kAdoptReadings &&
               in.ts - m_down_since >= levels.adopt_ms) {
        adopt(in, levels);
    }
    const double weight = down && in.ts >= m_adopted_until ? kDown : 1.0;
    for (std::size_t i = 0; i + 1 < kOnlineStats; ++i)
        if (valid[i])
            m_tails[i].learn(stat[i], weight);
    // Runs are learnt when they end, one value a run: a growing run must not teach its own tail.
    if (in.run == 1 && m_run > 0)
        m_tails[kOnlineStats - 1].learn(static_cast<double>(m_run), weight);
    m_run = in.run;
    learn(in, weight, dt);
    return v;
}

std::size_t OnlineState::jump_bin(double d) const noexcept {
    const double r = std::fabs(d) / m_jump_unit;
    std::uint64_t bits = 0;
    std::memcpy(&bits, &r, sizeof bits);
    const int exponent = static_cast<int>((bits >> 52) & 0x7FF) - 1023;
    const int half = static_cast<int>((bits >> 51) & 1);
    const int i = 2 * (exponent - kJumpLowest) + half;
    return static_cast<std::size_t>(std::clamp(i, 0, static_cast<int>(kJumpBins) - 1));
}

double OnlineState::jump_surprise(double d) const noexcept {
    if (!(m_jump_unit > 0) || d == 0 || !std::isfinite(d))
        return 0;
    const auto& hist = m_jump_hist[d > 0 ? 0 : 1];
    // Jumps of at least d / sqrt 2: the bins from d's on, and the part of the bin below that lies
    // above d / sqrt 2 (linear in the logarithm), so that the count has no edge where a jump just
    // over a bin's boundary would not count the jumps just under it.
    const std::size_t b = jump_bin(d);
    double seen = 0;
    for (std::size_t i = b; i < kJumpBins; ++i)
        seen += static_cast<double>(hist[i]);
    if (b > 0 && b + 1 < kJumpBins) {
        const double pos = 2.0 * (std::log2(std::fabs(d) / m_jump_unit) - kJumpLowest);
        const double frac = std::clamp(1.0 - (pos - static_cast<double>(b)), 0.0, 1.0);
        seen += frac * static_cast<double>(hist[b - 1]);
    }
    const double k = seen - std::sqrt(seen);
    return k > 0 ? std::log(m_jump_all / k) : kNever;
}

std::pair<double, double> OnlineState::expected(core::Millis local) const noexcept {
    const auto h = static_cast<std::size_t>(core::local_hour(local));
    double c = static_cast<double>(m_centre[h]);
    double spread = static_cast<double>(m_hour_spread[h]);
    if (weekend(local) && m_weekend_n[h] > 0 && m_interval > 0) {
        const double days = static_cast<double>(m_weekend_n[h]) * m_interval / kHourMs;
        const double trust = days / (days + kWeekendPriorDays);
        const auto offset = static_cast<double>(m_weekend_offset[h]);
        c += trust * offset;
        spread = std::max(spread, (1.0 - trust) * std::fabs(offset));
    }
    return {c, spread};
}

void OnlineState::profile_onset() noexcept {
    m_profile_raise += static_cast<float>(kProfileRaise);
}

void OnlineState::adopt(const OnlineInput& in, const OnlineLevels& levels) noexcept {
    m_down_n = 0;
    m_adopted_until = in.ts + levels.adopt_ms;
    if (!(in.scale > 0))
        return; // SeriesState not warm yet (never past kAdoptReadings readings)
    const double shift = in.median - m_level;
    m_level = in.median;
    m_spread = std::max(m_spread, in.scale);
    for (std::size_t h = 0; h < kDailyBuckets; ++h)
        if (m_bucket_n[h] > 0)
            m_centre[h] = static_cast<float>(static_cast<double>(m_centre[h]) + shift);
    m_volatility = std::min(m_volatility, 1.0);
}

void OnlineState::learn(const OnlineInput& in, double weight, double dt) noexcept {
    const double x = in.value;
    ++m_n;
    if (m_n == 1) {
        m_first = in.ts;
        m_level = x;
    } else {
        const double d = std::fabs(x - m_last_value);
        if (d > 0 && !(m_jump_unit > 0))
            m_jump_unit = d;
        if (m_jump_unit > 0) {
            // With the reading's weight, as the tails: the jumps of an anomaly count a tenth.
            if (d > 0)
                m_jump_hist[x > m_last_value ? 0 : 1][jump_bin(d)] += static_cast<float>(weight);
            m_jump_all += weight;
            if (m_jump_all >= kTailHalve) {
                m_jump_all *= 0.5;
                for (auto& h : m_jump_hist)
                    for (float& c : h)
                        c *= 0.5F;
            }
        }
        if (d > 0) {
            const double cap = m_step > 0 ? 6.0 * m_step : d;
            const double a = std::max(1.0 / 64.0, 1.0 / static_cast<double>(m_n)) * weight;
            m_step += a * (std::min(d, cap) - m_step);
        }
        const double a =
            std::max(1.0 / static_cast<double>(m_n), std::min(dt / kDayMs, 0.1)) * weight;
        robust_step(m_level, m_spread, x, a);
    }
    const auto h = static_cast<std::size_t>(core::local_hour(in.local));
    if (m_bucket_n[h] == 0) {
        m_centre[h] = static_cast<float>(x);
    } else {
        const double rate = std::min(kProfileRate, std::max(dt, 0.0) / kHourMs);
        if (weekend(in.local)) {
            // A weekend's reading teaches its hour's offset only (a plain mean of its first
            // readings, 1/n, then as the profile's): the hour's centre and spread are what its
            // weekdays do, learnt from them alone, or the two would share what tells them apart
            // (and a weekday's rush hour, rising within the hour, would be judged by the spread
            // of a flat weekend's).
            if (m_weekend_n[h] < UINT16_MAX)
                ++m_weekend_n[h];
            float& offset = m_weekend_offset[h];
            const auto c = static_cast<double>(m_centre[h]);
            const double dev = x - c - static_cast<double>(offset);
            const double lim =
                kClipSpreads * std::max({static_cast<double>(m_hour_spread[h]),
                                         std::fabs(static_cast<double>(offset)), m_step, tiny(x)});
            const double a = std::max(1.0 / m_weekend_n[h], rate) * weight;
            offset =
                static_cast<float>(static_cast<double>(offset) + a * std::clamp(dev, -lim, lim));
        } else {
            robust_step(m_centre[h], m_hour_spread[h], x, rate * weight);
        }
    }
    ++m_bucket_n[h];
    m_last_ts = in.ts;
    m_last_value = x;
}

} // namespace iots::detect
