#define BOOST_TEST_MODULE detect_online
#include "iotshield/detect/detector.hpp"
#include "iotshield/detect/online.hpp"
#include "iotshield/detect/tail.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
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
    static_assert(OnlineState::kStateVersion == 1);
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
    // A slow failure: half a spread higher every hour for a day.
    for (int i = 0; i < kPerDay; ++i) {
        in.ts = in.local = kStart + kStep * (4 * kPerDay + i);
        in.value = 20.0 + g(rng) + 0.5 * i / 12.0;
        (void)quiet.observe(in, levels, false);
        (void)event.observe(in, levels, true);
    }
    const double learnt = quiet.level() - before;
    BOOST_TEST(learnt > 2.0);
    BOOST_TEST(event.level() - before < 0.25 * learnt);
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
