#define BOOST_TEST_MODULE detect_day
#include "iotshield/detect/day_summary.hpp"
#include "iotshield/detect/detector.hpp"
#include "iotshield/detect/state_file.hpp"

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
constexpr std::int64_t kStart = 1'396'310'400'000; // 2014-04-01T00:00:00Z, local = UTC here
constexpr std::int64_t kStep = 300'000;            // one reading every 5 min
constexpr int kPerDay = 288;

struct Hit {
    int i;
    std::uint8_t bits;
};

// Feeds value(i), i in [0, n), to a fresh DaySummary; returns the readings where bits came out.
std::vector<Hit> feed(int n, const std::function<double(int)>& value) {
    DaySummary d;
    std::vector<Hit> hits;
    for (int i = 0; i < n; ++i)
        if (const std::uint8_t b = d.observe(kStart + kStep * i, value(i)); b != 0)
            hits.push_back({i, b});
    return hits;
}

double cycle(int i) {
    return std::sin(2.0 * std::numbers::pi * (i % kPerDay) / kPerDay);
}

std::mt19937_64& rng() {
    static std::mt19937_64 r(11);
    return r;
}
double noise(double sd) {
    std::normal_distribution<double> g(0.0, sd);
    return g(rng());
}
} // namespace

BOOST_AUTO_TEST_CASE(robust_is_median_and_scaled_mad_of_odd_and_even_counts) {
    const std::array<float, 5> odd{4, 100, 1, 3, 2};
    const auto r = DaySummary::robust(odd.data(), odd.size());
    BOOST_TEST(r.median == 3.0);
    BOOST_TEST(r.scale == 1.4826, boost::test_tools::tolerance(1e-9)); // |dev| 0 1 1 2 97: MAD 1
    BOOST_TEST(r.lo == 1.0);
    BOOST_TEST(r.hi == 100.0);
    const std::array<float, 2> even{1, 3};
    const auto e = DaySummary::robust(even.data(), even.size());
    BOOST_TEST(e.median == 2.0);
    BOOST_TEST(e.scale == 1.4826, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(state_is_trivially_copyable_small_and_valid_when_fresh) {
    static_assert(std::is_trivially_copyable_v<DaySummary>);
    BOOST_TEST(sizeof(DaySummary) <= 256U);
    BOOST_TEST(sizeof(Detector::Series) <= 8192U);
    DaySummary d;
    BOOST_TEST(d.state_valid());
    d.observe(kStart, 1.0);
    BOOST_TEST(d.state_valid());
}

BOOST_AUTO_TEST_CASE(a_daily_cycle_with_noise_stays_silent_for_four_weeks) {
    // Weekdays peak at 100, weekends at 70: the week's own pattern is within the days' spread.
    const auto hits = feed(28 * kPerDay, [](int i) {
        const int day = i / kPerDay;
        const double peak = (day % 7 >= 5) ? 70.0 : 100.0;
        return 50.0 + (peak - 50.0) * std::max(0.0, cycle(i)) - 20.0 * std::max(0.0, -cycle(i)) +
               noise(2.0);
    });
    BOOST_TEST(hits.empty());
}

BOOST_AUTO_TEST_CASE(flat_square_and_noise_stay_silent) {
    BOOST_TEST(feed(14 * kPerDay, [](int) { return 45.0; }).empty());
    BOOST_TEST(feed(14 * kPerDay, [](int i) {
                   return (i / (kPerDay / 2)) % 2 == 0 ? 20.0 : 80.0;
               }).empty());
    BOOST_TEST(feed(14 * kPerDay, [](int) { return 10.0 + noise(1.0); }).empty());
}

BOOST_AUTO_TEST_CASE(a_daily_peak_that_drops_is_flagged_once_at_the_next_days_first_reading) {
    // Ten days of a cycle 0..100, then on day 10 the peak stays at 50 (the day's upper half gone).
    const auto hits = feed(14 * kPerDay, [](int i) {
        const double amp = i / kPerDay == 10 ? 0.0 : 50.0;
        return 50.0 + amp * std::max(0.0, cycle(i)) - 50.0 * std::max(0.0, -cycle(i)) + noise(1.0);
    });
    BOOST_REQUIRE_EQUAL(hits.size(), 1U);
    BOOST_TEST(hits[0].i == 11 * kPerDay);
    BOOST_TEST((hits[0].bits & kMaxLow) != 0);
}

BOOST_AUTO_TEST_CASE(a_cycle_that_stops_is_flagged_once_then_learnt) {
    // A daily cycle for a week, then the value stays at its mean for a week: flagged at the end
    // of the first flat day (peak dropped, trough risen), never again.
    const auto hits = feed(14 * kPerDay, [](int i) {
        return i / kPerDay >= 7 ? 50.0 + noise(1.0) : 50.0 + 40.0 * cycle(i) + noise(1.0);
    });
    BOOST_REQUIRE_EQUAL(hits.size(), 1U);
    BOOST_TEST(hits[0].i == 8 * kPerDay);
    BOOST_TEST((hits[0].bits & (kMaxLow | kMinHigh)) == (kMaxLow | kMinHigh));
}

BOOST_AUTO_TEST_CASE(a_maximum_above_every_usual_one_is_flagged_at_that_reading) {
    // Eight days of a cycle, then at noon of day 8 a step to 200 for the rest of the series: the
    // first reading above the usual maxima fires (kMaxHigh), once, not on the following days.
    const int at = 8 * kPerDay + kPerDay / 2;
    const auto hits = feed(12 * kPerDay, [at](int i) {
        return i >= at ? 200.0 + noise(1.0) : 50.0 + 40.0 * cycle(i) + noise(1.0);
    });
    BOOST_REQUIRE(!hits.empty());
    BOOST_TEST(hits[0].i == at);
    BOOST_TEST(hits[0].bits == kMaxHigh);
    for (const Hit& h : hits)
        BOOST_TEST(((h.bits & kMaxHigh) == 0 || h.i == at));
}

BOOST_AUTO_TEST_CASE(nothing_is_judged_before_a_week_of_complete_days) {
    // A first day begun at noon is not complete: seven days later six complete days are known,
    // and a value of 1000 on the eighth is not judged by them.
    DaySummary d;
    int fired = 0;
    for (int i = kPerDay / 2; i < 8 * kPerDay; ++i)
        fired += d.observe(kStart + kStep * i, i >= 7 * kPerDay ? 1000.0 : cycle(i)) != 0;
    BOOST_TEST(fired == 0);
    BOOST_TEST(d.days() == 6U);
    // One more day (the eighth, complete) arms it: the ninth's first reading of 2000 fires.
    for (int i = 8 * kPerDay; i < 9 * kPerDay; ++i)
        d.observe(kStart + kStep * i, cycle(i));
    BOOST_TEST(d.days() == 7U);
    BOOST_TEST(d.observe(kStart + kStep * 9 * kPerDay, 2000.0) == kMaxHigh);
}

BOOST_AUTO_TEST_CASE(the_detector_reports_a_dropped_peak_as_daily) {
    Detector det;
    std::vector<std::pair<int, std::uint16_t>> flags;
    for (int i = 0; i < 14 * kPerDay; ++i) {
        const double amp = i / kPerDay == 10 ? 0.0 : 50.0;
        const double x =
            50.0 + amp * std::max(0.0, cycle(i)) - 50.0 * std::max(0.0, -cycle(i)) + noise(1.0);
        const Verdict v = det.score(kStart + kStep * i, "dev", "value", x);
        if (v.anomaly)
            flags.emplace_back(i, v.reasons);
    }
    bool found = false;
    for (const auto& [i, why] : flags)
        found = found || (i == 11 * kPerDay && (why & kDaily) != 0);
    BOOST_TEST(found);
}

BOOST_AUTO_TEST_CASE(a_restart_through_the_state_file_keeps_the_days_learnt) {
    // Twelve days, the peak gone on day 10; a detector restarted from its state file at noon of
    // day 9 flags what one run flags (the dropped peak at day 11's first reading included).
    std::vector<double> x(static_cast<std::size_t>(12 * kPerDay));
    for (std::size_t i = 0; i < x.size(); ++i) {
        const int k = static_cast<int>(i);
        const double amp = k / kPerDay == 10 ? 0.0 : 50.0;
        x[i] = 50.0 + amp * std::max(0.0, cycle(k)) - 50.0 * std::max(0.0, -cycle(k)) + noise(1.0);
    }
    const int cut = 9 * kPerDay + kPerDay / 2;
    Detector one;
    Detector first;
    Detector second;
    std::vector<int> a, b;
    for (int i = 0; i < static_cast<int>(x.size()); ++i) {
        const std::int64_t ts = kStart + kStep * i;
        if (one.score(ts, "dev", "value", x[static_cast<std::size_t>(i)]).anomaly)
            a.push_back(i);
        if (i == cut)
            (void)decode_state(encode_state(first, ts), "test", second);
        Detector& d = i < cut ? first : second;
        if (d.score(ts, "dev", "value", x[static_cast<std::size_t>(i)]).anomaly)
            b.push_back(i);
    }
    BOOST_TEST(a == b, boost::test_tools::per_element());
    BOOST_TEST(std::count(a.begin(), a.end(), 11 * kPerDay) == 1);
}

BOOST_AUTO_TEST_CASE(a_fire_day_is_not_learnt_and_holds_the_next_day_back_in_nothing) {
    // Eight days of a cycle of amplitude 1, then on day 8 a fire's heat of 100 at noon (a safety
    // threshold holds): that day is judged (its peak is impossible) but not learnt, and a peak of
    // 5 on day 9 (a stuck heating valve) is flagged, though the day before had a high maximum.
    DaySummary d;
    for (int i = 0; i < 8 * kPerDay; ++i)
        d.observe(kStart + kStep * i, cycle(i));
    BOOST_TEST(d.days() == 7U);
    int fire_bits = 0;
    for (int i = 8 * kPerDay; i < 9 * kPerDay; ++i) {
        const bool fire = i == 8 * kPerDay + kPerDay / 2;
        fire_bits |= d.observe(kStart + kStep * i, fire ? 100.0 : cycle(i), fire);
    }
    BOOST_TEST(fire_bits == kMaxHigh);
    std::vector<Hit> hits;
    for (int i = 9 * kPerDay; i < 10 * kPerDay; ++i) {
        const double x = i >= 9 * kPerDay + kPerDay / 4 ? 5.0 : cycle(i);
        if (const std::uint8_t b = d.observe(kStart + kStep * i, x); b != 0)
            hits.push_back({i, b});
    }
    BOOST_TEST(d.days() == 8U); // days 0 to 7; day 8, the fire's, not learnt
    BOOST_REQUIRE(!hits.empty());
    BOOST_TEST(hits[0].i == 9 * kPerDay + kPerDay / 4);
    BOOST_TEST(hits[0].bits == kMaxHigh);
}

BOOST_AUTO_TEST_CASE(an_outlier_reading_is_no_part_of_the_days_peak) {
    // A glitch of 1000 on day 8 (a spike, flagged as such) is neither judged nor learnt as the
    // day's maximum: it raises nothing here, and a peak of 5 the next day is flagged as one.
    DaySummary d;
    for (int i = 0; i < 8 * kPerDay; ++i)
        d.observe(kStart + kStep * i, cycle(i));
    int glitch_bits = 0;
    for (int i = 8 * kPerDay; i < 9 * kPerDay; ++i) {
        const bool glitch = i == 8 * kPerDay + kPerDay / 2;
        glitch_bits |= d.observe(kStart + kStep * i, glitch ? 1000.0 : cycle(i), false, glitch);
    }
    BOOST_TEST(glitch_bits == 0);
    BOOST_TEST(d.days() == 8U);
    BOOST_TEST(d.observe(kStart + kStep * 9 * kPerDay, 5.0) == kMaxHigh);
}
