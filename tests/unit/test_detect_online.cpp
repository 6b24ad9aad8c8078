#define BOOST_TEST_MODULE detect_online
#include "iotshield/detect/detector.hpp"
#include "iotshield/detect/online.hpp"
#include "iotshield/detect/tail.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numbers>
#include <random>
#include <type_traits>
#include <vector>

using namespace iots::detect;

namespace {
constexpr std::int64_t kStart = 1'396'310'400'000; // 2014-04-01T00:00:00Z
constexpr std::int64_t kStep = 300'000;            // one reading every 5 min, as NAB's series
constexpr int kPerDay = 288;

struct Run {
    std::vector<int> flags;         // reading indices flagged
    std::vector<std::uint16_t> why; // their reasons
};

// Feeds value(i) for i in [0, n) to one series of a fresh detector without a model.
Run run(int n, const std::function<double(int)>& value) {
    Detector d;
    Run r;
    for (int i = 0; i < n; ++i) {
        const Verdict v = d.score(kStart + kStep * i, "dev", "value", value(i));
        if (v.anomaly) {
            r.flags.push_back(i);
            r.why.push_back(v.reasons);
        }
    }
    return r;
}

double daily(int i) {
    return std::sin(2.0 * std::numbers::pi * (i % kPerDay) / kPerDay);
}
} // namespace

BOOST_AUTO_TEST_CASE(state_is_trivially_copyable_and_fits_in_8_kib_per_series) {
    static_assert(std::is_trivially_copyable_v<OnlineState>);
    static_assert(std::is_trivially_copyable_v<TailCalibrator>);
    static_assert(OnlineState::kStateVersion == 5);
    BOOST_TEST(sizeof(Detector::Series) <= 8192U);
}

BOOST_AUTO_TEST_CASE(flat_square_wave_sine_and_noise_stay_silent_for_two_weeks) {
    const int n = 14 * kPerDay;
    std::mt19937_64 rng(7);
    std::normal_distribution<double> g(0.0, 1.0);
    std::vector<double> noise(static_cast<std::size_t>(n));
    for (auto& x : noise)
        x = 10.0 + g(rng);
    BOOST_TEST(run(n, [](int) { return 45.0; }).flags.empty());
    // A square wave of 20 and 80 switching every 12 hours: the first switch a series that never
    // moved makes is news (flagged once), every later one is what it does.
    const Run square = run(n, [](int i) { return (i / (kPerDay / 2)) % 2 == 0 ? 20.0 : 80.0; });
    BOOST_TEST(square.flags.size() <= 1U);
    if (!square.flags.empty())
        BOOST_TEST(square.flags.front() == kPerDay / 2);
    BOOST_TEST(run(n, [](int i) { return 50.0 + 30.0 * daily(i); }).flags.empty());
    BOOST_TEST(run(n, [&](int i) { return noise[static_cast<std::size_t>(i)]; }).flags.empty());
}

BOOST_AUTO_TEST_CASE(a_light_switched_every_evening_is_silent_within_a_week_and_a_spike_is_not) {
    // A room's light read every 5 s, as iots-sim's: daylight with 2 % noise by day, 0.3 lux at
    // night but for a lamp of about 400 lux switched on and off four times each evening at varying
    // times. A lamp's jump is thousands of units of the night's noise and a few of the day's: no
    // tail of the z, spike or daily statistic learns it, the series' own jumps do (learnt at a
    // tenth of the weight while flagged, so it takes some days).
    constexpr std::int64_t step = 5000;
    constexpr int per_day = 17'280;
    std::mt19937_64 rng(5);
    std::normal_distribution<double> g(0.0, 1.0);
    std::uniform_int_distribution<int> late(0, 360);
    const int n = 14 * per_day;
    const int spike = 12 * per_day + 2160; // 03:00 of day 12, one reading
    Detector d;
    int late_flags = 0;
    bool spike_found = false;
    std::array<int, 8> edges{};
    for (int i = 0; i < n; ++i) {
        const int t = i % per_day;
        if (t == 0)
            for (std::size_t k = 0; k < edges.size(); ++k) // 18:00 to 23:30, half an hour apart
                edges[k] = 12'960 + 720 * static_cast<int>(k) + late(rng);
        const auto lit = std::count_if(edges.begin(), edges.end(), [t](int e) { return t >= e; });
        const double sun = std::max(0.0, std::sin(std::numbers::pi * (t - 5040) / 7920.0));
        const double lux = 0.3 + 2000.0 * sun + (lit % 2 == 1 ? 400.0 : 0.0);
        double x = std::max(0.0, std::round((lux + (0.1 + 0.02 * lux) * g(rng)) * 10.0) / 10.0);
        if (i == spike)
            x += 5000.0;
        const Verdict v = d.score(kStart + step * i, "dev", "light", x);
        if (v.anomaly && i == spike)
            spike_found = true;
        else if (v.anomaly && i >= 7 * per_day)
            ++late_flags;
    }
    BOOST_TEST(late_flags == 0);
    BOOST_TEST(spike_found);
}

BOOST_AUTO_TEST_CASE(quantised_and_clamped_values_do_not_trip_the_zscore) {
    // A sensor with a resolution of 0.5 around 21.0 whose noise is 0.12: almost every reading is
    // 21.0 (MAD 0), now and then 20.5 or 21.5.
    std::mt19937_64 rng(3);
    std::normal_distribution<double> g(0.0, 1.0);
    const int n = 14 * kPerDay;
    std::vector<double> q(static_cast<std::size_t>(n));
    std::vector<double> c(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        q[static_cast<std::size_t>(i)] = std::round((21.0 + 0.12 * g(rng)) * 2.0) / 2.0;
        // A humidity sensor near saturation, clamped at 100 % (about a tenth of its readings).
        c[static_cast<std::size_t>(i)] =
            std::min(100.0, std::round((97.0 + 2.0 * g(rng) + 2.0 * daily(i)) * 10.0) / 10.0);
    }
    BOOST_TEST(run(n, [&](int i) { return q[static_cast<std::size_t>(i)]; }).flags.empty());
    BOOST_TEST(run(n, [&](int i) { return c[static_cast<std::size_t>(i)]; }).flags.empty());
}

BOOST_AUTO_TEST_CASE(level_shift_is_flagged_once_at_its_onset_then_learnt) {
    std::mt19937_64 rng(11);
    std::normal_distribution<double> g(0.0, 1.0);
    const int shift = 5 * kPerDay;
    const int n = 15 * kPerDay;
    std::vector<double> v(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        v[static_cast<std::size_t>(i)] = 20.0 + g(rng) + (i >= shift ? 15.0 : 0.0);
    const Run r = run(n, [&](int i) { return v[static_cast<std::size_t>(i)]; });
    BOOST_REQUIRE(!r.flags.empty());
    BOOST_TEST(r.flags.size() == 1U);
    BOOST_TEST(r.flags.front() >= shift);
    BOOST_TEST(r.flags.front() <= shift + 2);

    OnlineState s;
    const OnlineLevels levels;
    OnlineInput in;
    for (int i = 0; i < n; ++i) {
        in.ts = in.local = kStart + kStep * i;
        in.value = v[static_cast<std::size_t>(i)];
        (void)s.observe(in, levels, false);
    }
    BOOST_TEST(std::fabs(s.level() - 35.0) < 1.0); // the new normal, ten days later
}

BOOST_AUTO_TEST_CASE(a_level_shift_is_adopted_within_the_bound_and_the_next_change_flagged_again) {
    // 20 +- 1, then 35 from day 5 and 50 from day 8. Each shift holds the level statistic; once
    // such a stretch has lasted adopt_ms (6 h = 72 readings at 5 min, more than the 64 readings
    // it also needs) the level is the median of the last 64 readings: the new normal, and the
    // series' event ends, so the second shift is an onset of its own.
    std::mt19937_64 rng(13);
    std::normal_distribution<double> g(0.0, 1.0);
    const int first = 5 * kPerDay;
    const int second = 8 * kPerDay;
    const int n = 10 * kPerDay;
    const OnlineLevels levels;
    BOOST_TEST(levels.adopt_ms == 6 * 3'600'000LL);
    const int bound = static_cast<int>(levels.adopt_ms / kStep); // 72 readings
    std::vector<double> v(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        v[static_cast<std::size_t>(i)] =
            20.0 + g(rng) + (i >= first ? 15.0 : 0.0) + (i >= second ? 15.0 : 0.0);
    const Run r = run(n, [&](int i) { return v[static_cast<std::size_t>(i)]; });
    for (std::size_t k = 0; k < r.flags.size(); ++k)
        BOOST_TEST_MESSAGE("flag " << r.flags[k] << " reasons " << r.why[k]);
    // The first shift: one flag, at its onset.
    BOOST_REQUIRE(r.flags.size() >= 2U);
    BOOST_TEST(r.flags[0] >= first);
    BOOST_TEST(r.flags[0] <= first + 2);
    BOOST_TEST(r.flags[1] >= second);
    BOOST_TEST(r.flags[1] <= second + 2);
    // The second one, of the same size, is flagged at its onset too, by zscore, spike and daily;
    // the level statistic's histogram has learnt the first shift's size from its 72 readings
    // (at a tenth of the weight: 7.2 values), so level does not hold, and once zscore's median
    // has moved (32 readings) the event lapses and volatility makes a second onset 36 readings
    // in (a known cost: the histogram counts readings, not events).
    BOOST_TEST(r.flags.size() <= 3U);
    if (r.flags.size() == 3U) {
        BOOST_TEST(r.flags[2] < second + kPerDay / 4);
        BOOST_TEST(r.why[2] == kVolatility);
    }

    OnlineState s;
    OnlineInput in;
    for (int i = 0; i <= first + bound + 1; ++i) {
        in.ts = in.local = kStart + kStep * i;
        in.value = v[static_cast<std::size_t>(i)];
        in.median = i >= first + static_cast<int>(kWindow)
                        ? 35.0
                        : 20.0; // SeriesState's, from 64 readings on
        in.scale = 1.0;
        // The detector's event from the shift on (the level statistic holds at its onset).
        (void)s.observe(in, levels, i >= first);
    }
    // Learnt at a tenth of the weight, the level would still be within a few units of 20.
    BOOST_TEST(std::fabs(s.level() - 35.0) < 1.0);
    BOOST_TEST(s.adopted_until() == kStart + kStep * (first + bound) + levels.adopt_ms);
}

BOOST_AUTO_TEST_CASE(a_model_profile_onset_raises_its_level_by_two_decades_for_four_days) {
    // ln 100 = 4.605 nats at an onset, relaxing at 4.605 x 0.25 (per_day) = 1.151 nats a day:
    // half of it left after two days, none after four (or six, after a second onset two days in).
    OnlineState s;
    const OnlineLevels levels;
    OnlineInput in;
    in.value = 20.0;
    const auto feed = [&](int from, int to) {
        for (int i = from; i < to; ++i) {
            in.ts = in.local = kStart + kStep * i;
            (void)s.observe(in, levels, false);
        }
    };
    feed(0, 1);
    s.profile_onset();
    BOOST_TEST(std::fabs(s.profile_raise() - std::log(100.0)) < 1e-3);
    feed(1, 1 + 2 * kPerDay);
    BOOST_TEST(std::fabs(s.profile_raise() - 0.5 * std::log(100.0)) < 1e-2);
    s.profile_onset(); // onsets add up
    BOOST_TEST(std::fabs(s.profile_raise() - 1.5 * std::log(100.0)) < 1e-2);
    feed(1 + 2 * kPerDay, 1 + 9 * kPerDay); // 7 days: 8.06 nats, more than the 6.91 left
    BOOST_TEST(s.profile_raise() == 0.0);
}

BOOST_AUTO_TEST_CASE(a_daily_cycle_that_stops_is_flagged_by_the_daily_profile) {
    // A cycle of +-10 with noise 1 for five days, then the series stays at its mean: every value
    // is inside the range it always had, only the hour's own pattern is broken.
    std::mt19937_64 rng(5);
    std::normal_distribution<double> g(0.0, 1.0);
    const int stop = 5 * kPerDay;
    const int n = 7 * kPerDay;
    std::vector<double> v(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        v[static_cast<std::size_t>(i)] = 50.0 + g(rng) + (i < stop ? 10.0 * daily(i) : 0.0);
    const Run r = run(n, [&](int i) { return v[static_cast<std::size_t>(i)]; });
    // The profile speaks after two days; the first flag after them is the stopped cycle's.
    const auto it =
        std::find_if(r.flags.begin(), r.flags.end(), [](int i) { return i >= 2 * kPerDay; });
    BOOST_REQUIRE(it != r.flags.end());
    BOOST_TEST(*it >= stop);
    BOOST_TEST(*it < stop + kPerDay / 2);
    BOOST_TEST((r.why[static_cast<std::size_t>(it - r.flags.begin())] & kDaily) != 0);
}

BOOST_AUTO_TEST_CASE(readings_of_an_event_are_learnt_with_a_tenth_of_the_weight) {
    std::mt19937_64 rng(9);
    std::normal_distribution<double> g(0.0, 1.0);
    OnlineState quiet, event;
    const OnlineLevels levels;
    OnlineInput in;
    for (int i = 0; i < 4 * kPerDay; ++i) {
        in.ts = in.local = kStart + kStep * i;
        in.value = 20.0 + g(rng);
        (void)quiet.observe(in, levels, false);
        (void)event.observe(in, levels, false);
    }
    const double before = quiet.level();
    // A slow failure: two spreads higher every hour, for one reading less than the 6 hours after
    // which an event's stretch is adopted as the new normal (a_level_shift_is_adopted...).
    const int ramp = static_cast<int>(levels.adopt_ms / kStep) - 1; // 71 readings
    for (int i = 0; i < ramp; ++i) {
        in.ts = in.local = kStart + kStep * (4 * kPerDay + i);
        in.value = 20.0 + g(rng) + 2.0 * i / 12.0;
        (void)quiet.observe(in, levels, false);
        (void)event.observe(in, levels, true);
    }
    const double learnt = quiet.level() - before;
    // The quiet state learns about 71/288 of a deviation clipped at 4 spreads (5 units): ~1.
    BOOST_TEST(learnt > 0.5);
    BOOST_TEST(event.level() - before < 0.25 * learnt);
    BOOST_TEST(event.adopted_until() == 0);
}

BOOST_AUTO_TEST_CASE(tail_surprise_follows_the_exceedance_rate) {
    // Exponential(1) values: P(S > x) = exp(-x), so the surprise of x far in the tail is about x.
    std::mt19937_64 rng(1);
    std::exponential_distribution<double> e(1.0);
    TailCalibrator t;
    BOOST_TEST(t.surprise(100.0, 0.0) == 0.0); // nothing learnt: nothing is surprising
    for (int i = 0; i < 100'000; ++i)
        t.learn(e(rng));
    BOOST_TEST(t.ready());
    BOOST_TEST(std::fabs(t.surprise(10.0, 1e9) - 10.0) < 0.5);
    BOOST_TEST(t.surprise(0.5, 0.0) == 0.0);   // below the threshold
    BOOST_TEST(t.log_extremal_index() > -0.2); // independent values: no clusters
}

BOOST_AUTO_TEST_CASE(gas_flags_from_the_first_reading_whatever_the_online_layer_learnt) {
    Detector d;
    const Verdict first = d.score(kStart, "kitchen", "gas", 5000.0);
    BOOST_TEST(first.anomaly);
    BOOST_TEST((first.reasons & kGas) != 0);
    for (int i = 1; i < 3 * kPerDay; ++i) // a gas sensor reading high for days is still an alarm
        BOOST_TEST(d.score(kStart + kStep * i, "kitchen", "gas", 5000.0).anomaly);
}

BOOST_AUTO_TEST_CASE(a_tail_that_is_a_mixture_knows_its_rare_recurring_jumps) {
    // Noise around 1 and, once in 2000 readings, a jump of 1000 to 2000 (a light switched on):
    // the exponential fit over the noise calls 1000 impossible, the histogram knows it recurs.
    std::mt19937_64 rng(2);
    std::exponential_distribution<double> e(1.0);
    std::uniform_real_distribution<double> u(1000.0, 2000.0);
    TailCalibrator t;
    for (int i = 0; i < 20'000; ++i)
        t.learn(i % 2000 == 1999 ? u(rng) : e(rng));
    BOOST_TEST(t.surprise(1000.0, 1e9) > 30.0); // far beyond any flag level (about 13)
    BOOST_TEST(t.surprise(1000.0, 20.0) < std::log(3000.0));
    BOOST_TEST(t.surprise(1e5, 20.0) > 100.0); // never seen anything near it
}

BOOST_AUTO_TEST_CASE(a_weekday_shaped_like_a_weekend_is_flagged_and_weekends_are_not) {
    // Road traffic or taxi demand: a morning rush rising to +40 and back from 07:00 to 10:00 on
    // weekdays (no jump: a gradual swell, so it is not a switching the series makes), none on
    // Saturdays and Sundays (noise 1). A Wednesday holiday in the fourth week has no rush. With
    // one profile for every day the weekends teach the rush hours a spread of tens and the tail
    // that such gaps recur, so the holiday is nothing new; with the weekend's offset learnt apart
    // it is 40 spreads off its weekday's hours, and the weekends are what they always are.
    std::mt19937_64 rng(13);
    std::normal_distribution<double> g(0.0, 1.0);
    const int n = 28 * kPerDay;
    const int holiday = 22; // 2014-04-23, a Wednesday (2014-04-01 was a Tuesday)
    std::vector<double> v(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        const int day = i / kPerDay;
        const int t = i % kPerDay - 7 * 12; // readings since 07:00
        const bool weekend = (1 + day) % 7 >= 5;
        const bool rush = !weekend && day != holiday && t >= 0 && t < 36;
        v[static_cast<std::size_t>(i)] =
            20.0 + (rush ? 40.0 * std::sin(std::numbers::pi * t / 36.0) : 0.0) + g(rng);
    }
    const Run r = run(n, [&](int i) { return v[static_cast<std::size_t>(i)]; });
    // Other checks may speak at the rush's edges (its steepest rise); the daily pattern, once
    // two weekends are known, speaks on the holiday only.
    int on_holiday = 0;
    for (std::size_t k = 0; k < r.flags.size(); ++k) {
        const int day = r.flags[k] / kPerDay;
        if (day == holiday) {
            ++on_holiday;
            BOOST_TEST((r.why[k] & kDaily) != 0);
        } else if ((r.why[k] & kDaily) != 0) {
            BOOST_TEST(day < 14, "daily flag on day " << day << " at reading " << r.flags[k]);
        }
    }
    BOOST_TEST(on_holiday == 1);
}
