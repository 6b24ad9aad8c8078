#define BOOST_TEST_MODULE detect_variance
#include "iotshield/detect/detector.hpp"
#include "iotshield/detect/series.hpp"
#include "iotshield/detect/variance.hpp"

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
constexpr std::int64_t kStep = 300'000;            // one reading every 5 min

// Five minutes later than the last call.
std::int64_t t() {
    static std::int64_t now = kStart;
    return now += kStep;
}

std::mt19937_64& rng() {
    static std::mt19937_64 r(7);
    return r;
}
double noise(double sd) {
    std::normal_distribution<double> g(0.0, sd);
    return g(rng());
}

// The window's scale as SeriesState gives it: 1.4826 x the MAD of the last kWindow values.
class Window {
public:
    double push(double x) {
        m_ring[m_head] = x;
        m_head = (m_head + 1) % kWindow;
        m_filled = std::min(m_filled + 1, kWindow);
        if (m_filled < kWindow)
            return -1.0;
        std::array<double, kWindow> v = m_ring;
        std::sort(v.begin(), v.end());
        return kMadToSigma * median_mad_sorted(v.data(), v.size()).second;
    }

private:
    std::array<double, kWindow> m_ring{};
    std::size_t m_head = 0;
    std::size_t m_filled = 0;
};

// Feeds value(i), i in [0, n), to a fresh VarianceCheck as the detector does (the window's scale
// where due); returns the readings where it fired.
std::vector<int> feed(int n, const std::function<double(int)>& value) {
    VarianceCheck c;
    Window w;
    std::vector<int> hits;
    for (int i = 0; i < n; ++i) {
        const double x = value(i);
        const double scale = w.push(x); // every reading enters the window
        if (c.observe(kStart + kStep * i, x, c.due() ? scale : -1.0))
            hits.push_back(i);
    }
    return hits;
}
} // namespace

BOOST_AUTO_TEST_CASE(state_is_trivially_copyable_small_and_valid_when_fresh) {
    static_assert(std::is_trivially_copyable_v<VarianceCheck>);
    BOOST_TEST(sizeof(VarianceCheck) <= 128U);
    BOOST_TEST(sizeof(Detector::Series) <= 8192U);
    VarianceCheck c;
    BOOST_TEST(c.state_valid());
    BOOST_TEST(!c.observe(t(), 1.0, -1.0));
    BOOST_TEST(c.state_valid());
}

BOOST_AUTO_TEST_CASE(the_statistic_is_the_log_ratio_to_the_long_run_scale_floored_by_half_a_step) {
    VarianceCheck c;
    BOOST_TEST(!c.observe(t(), 0.0, -1.0)); // the window not full: nothing learnt but the value
    BOOST_TEST(c.ratio() == 0.0);
    // Steps of 10: a window of MAD 0 has the scale 5 (half the step), the long-run scale.
    BOOST_TEST(!c.observe(t(), 10.0, 0.0));
    BOOST_TEST(c.ratio() == 0.0);
    BOOST_TEST(!c.observe(t(), 0.0, 20.0)); // four times the long-run scale, but not yet judged
    BOOST_TEST(c.ratio() == std::log(4.0), boost::test_tools::tolerance(1e-12));
    BOOST_TEST(c.readings() == 3U);
    // Not a look: the step is learnt, the statistic stays.
    BOOST_TEST(!c.observe(t(), 100.0, -1.0));
    BOOST_TEST(c.ratio() == std::log(4.0), boost::test_tools::tolerance(1e-12));
    BOOST_TEST(c.readings() == 4U);
}

BOOST_AUTO_TEST_CASE(the_window_is_looked_at_every_eighth_reading) {
    VarianceCheck c;
    int due = 0;
    for (int i = 0; i < 64; ++i) {
        due += c.due() ? 1 : 0;
        (void)c.observe(t(), 1.0, -1.0);
    }
    BOOST_TEST(due == 8);
}

namespace {
VarianceCheck warmed() {
    VarianceCheck c;
    int fired = 0;
    for (std::uint32_t i = 0; i < kVarianceWarm; ++i)
        fired += c.observe(t(), i % 2 == 0 ? 0.0 : 1.0, 1.0) ? 1 : 0;
    BOOST_TEST(fired == 0);
    BOOST_TEST(c.ratio() == 0.0);
    return c;
}
} // namespace

BOOST_AUTO_TEST_CASE(a_scale_that_quadruples_fires_once_past_the_warm_up) {
    VarianceCheck c = warmed();
    // r = ln 4 is above the level ln 3 and beyond every r seen (0) by ln 1.5: fires, once.
    BOOST_TEST(c.observe(t(), 1.0, 4.0));
    BOOST_TEST(c.ratio() == std::log(4.0), boost::test_tools::tolerance(1e-9));
    BOOST_TEST(!c.observe(t(), 0.0, 8.0)); // the same change: not rearmed
    BOOST_TEST(c.state_valid());
}

BOOST_AUTO_TEST_CASE(a_swing_seen_before_raises_the_bar_by_the_novelty_margin) {
    VarianceCheck c = warmed();
    // e times the scale: r = 1 is under the level ln 3 = 1.0986, so usual: the recent maximum.
    BOOST_TEST(!c.observe(t(), 0.0, std::exp(1.0)));
    BOOST_TEST(c.ratio() == 1.0, boost::test_tools::tolerance(1e-9));
    // Four times: above the level, but not ln 1.5 beyond 1 (1.386 < 1.405): not news. Unusual,
    // it is not learnt as a swing of the series.
    BOOST_TEST(!c.observe(t(), 1.0, 4.0));
    BOOST_TEST(c.observe(t(), 0.0, 5.0)); // 1.609: beyond 1 by ln 1.5
}

BOOST_AUTO_TEST_CASE(a_swing_is_news_again_only_once_the_week_has_sunk_it_by_the_margin) {
    VarianceCheck c = warmed();
    const std::int64_t now = t();
    BOOST_TEST(!c.observe(now, 0.0, std::exp(1.0))); // r = 1: usual, the largest seen
    VarianceCheck later = c;
    // Four times the same day: ln 4 = 1.386 is not ln 1.5 beyond 1 (1.405) ...
    BOOST_TEST(!c.observe(now + kStep, 1.0, 4.0));
    // ... but is a week later, 1 having sunk by ln 1.5 to 0.595 (beyond: 1.0).
    BOOST_TEST(later.observe(now + kVarianceMaxSinkMs + kStep, 1.0, 4.0));
}

BOOST_AUTO_TEST_CASE(a_step_that_recurs_every_day_is_news_on_its_first_day_only) {
    // 17 +- 0.1 for three days, then a schedule: day (07-23 h) at 20, a reading every 5 minutes.
    // The window straddling each step swings the scale far beyond the level: the first day's
    // steps fire, then their ratio joins the usual swings a day on, and the next 10 days are
    // silent.
    const int per_day = 288;
    const auto hits = feed(14 * per_day, [per_day](int i) {
        const int hour = (i % per_day) / 12;
        return (i >= 3 * per_day && hour >= 7 && hour < 23 ? 20.0 : 17.0) + noise(0.1);
    });
    BOOST_TEST(!hits.empty());
    for (const int h : hits) {
        BOOST_TEST(h >= 3 * per_day);
        BOOST_TEST(h < 4 * per_day + per_day / 4); // its 23 h step fires in the night after
    }
}

BOOST_AUTO_TEST_CASE(with_a_quiet_time_nothing_is_judged_and_every_ratio_is_learnt) {
    // A model's first days: the detector passes how long the model saw of the series.
    VarianceCheck c;
    const std::int64_t quiet = 2 * 86'400'000LL;
    std::int64_t ts = kStart;
    for (std::uint32_t i = 0; i < kVarianceWarm; ++i, ts += kStep)
        (void)c.observe(ts, i % 2, 1.0, quiet);
    BOOST_TEST(!c.observe(ts, 0.0, 4.0, quiet)); // would be news: not judged yet, but learnt
    ts = kStart + quiet;
    for (int i = 0; i < 8; ++i, ts += kStep)
        (void)c.observe(ts, i % 2, 1.0, quiet);
    BOOST_TEST(!c.observe(ts, 0.0, 4.0, quiet));        // judged now: seen in the quiet time
    BOOST_TEST(c.observe(ts + kStep, 0.0, 8.0, quiet)); // ln 8: beyond ln 4 by more than ln 1.5
}

BOOST_AUTO_TEST_CASE(noise_whose_spread_grows_eightfold_fires_once_soon_after_then_is_learnt) {
    const int at = 3000;
    const auto hits = feed(8000, [](int i) { return 50.0 + noise(i >= at ? 8.0 : 1.0); });
    BOOST_REQUIRE_EQUAL(hits.size(), 1U);
    BOOST_TEST(hits[0] >= at);
    BOOST_TEST(hits[0] < at + static_cast<int>(kWindow)); // within a window of the change
}

BOOST_AUTO_TEST_CASE(a_level_shift_much_larger_than_the_noise_fires_while_the_window_straddles_it) {
    const int at = 2000;
    const auto hits = feed(5000, [](int i) { return (i >= at ? 80.0 : 30.0) + noise(1.0); });
    BOOST_REQUIRE_EQUAL(hits.size(), 1U);
    BOOST_TEST(hits[0] >= at);
    BOOST_TEST(hits[0] < at + static_cast<int>(kWindow));
}

BOOST_AUTO_TEST_CASE(noise_flat_lines_square_waves_and_daily_cycles_stay_silent) {
    BOOST_TEST(feed(20000, [](int) { return 10.0 + noise(1.0); }).empty());
    BOOST_TEST(feed(20000, [](int) { return 45.0; }).empty());
    // A square wave of 20 and 80 held 108 and 180 readings (NAB's artificial series): the window
    // straddling an edge swings its scale from 0 to 40 twice a period, every period.
    BOOST_TEST(feed(20000, [](int i) { return i % 288 < 108 ? 20.0 : 80.0; }).empty());
    // A daily cycle whose noise is larger by day than by night.
    BOOST_TEST(feed(20000, [](int i) {
                   const double day = std::sin(2.0 * std::numbers::pi * (i % 288) / 288.0);
                   return 50.0 + 30.0 * day + noise(day > 0 ? 3.0 : 1.0);
               }).empty());
}

BOOST_AUTO_TEST_CASE(the_detector_reports_a_change_of_variance_as_volatility_once) {
    // Readings within 0.5 of 50, and one in twenty anywhere in 40..60; then all of them anywhere
    // in 40..60. No reading is new to the series, but the spread of its readings is: one flag,
    // within a window of the change, as volatility.
    Detector det;
    const int at = 3000;
    std::mt19937_64 r(3);
    std::uniform_real_distribution<double> wide(40.0, 60.0);
    std::uniform_real_distribution<double> narrow(-0.5, 0.5);
    std::vector<std::pair<int, std::uint16_t>> flags;
    for (int i = 0; i < 4000; ++i) {
        const double x = i >= at || i % 20 == 0 ? wide(r) : 50.0 + narrow(r);
        const Verdict v = det.score(kStart + kStep * i, "dev", "value", x);
        if (v.anomaly && i > 500)
            flags.emplace_back(i, v.reasons);
    }
    BOOST_REQUIRE_EQUAL(flags.size(), 1U);
    BOOST_TEST(flags[0].first >= at);
    BOOST_TEST(flags[0].first < at + static_cast<int>(kWindow));
    BOOST_TEST(flags[0].second == kVolatility);
}
