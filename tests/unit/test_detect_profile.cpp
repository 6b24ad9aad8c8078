#define BOOST_TEST_MODULE detect_profile
#include "iotshield/core/zone.hpp"
#include "iotshield/detect/detector.hpp"
#include "iotshield/detect/model.hpp"
#include "iotshield/detect/profile.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <random>

using namespace iots::detect;

namespace {
// 2023-11-13T00:00:00Z, a Monday.
constexpr std::int64_t kMonday = 1'699'833'600'000;
constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kStep = 60'000; // one reading a minute

// A room at 20 C by day (07-23 h) and 17 C by night, noise sd 0.1.
double room(std::int64_t ts, std::mt19937_64& rng) {
    std::normal_distribution<double> g(0.0, 0.1);
    const auto hour = (ts % kDay) / kHour;
    return (hour >= 7 && hour < 23 ? 20.0 : 17.0) + g(rng);
}

// Motion: busy (p 0.4 a reading) 18-22 h, never otherwise.
double pir(std::int64_t ts, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(0, 1);
    const auto hour = (ts % kDay) / kHour;
    return hour >= 18 && hour < 22 && u(rng) < 0.4 ? 1.0 : 0.0;
}

Model trained(int days) {
    std::mt19937_64 rng(7);
    History t{"d", "temperature", {}, {}}, m{"d", "motion", {}, {}};
    for (std::int64_t ts = kMonday; ts < kMonday + days * kDay; ts += kStep) {
        t.ts.push_back(ts);
        t.values.push_back(room(ts, rng));
        m.ts.push_back(ts);
        m.values.push_back(pir(ts, rng));
    }
    TrainOptions o;
    o.forest.trees = 10;
    return train({t, m}, o).model;
}
} // namespace

BOOST_AUTO_TEST_CASE(buckets_are_local_hours_with_weekends_apart) {
    // profile_bucket takes a local wall time; in UTC that is the timestamp itself.
    BOOST_TEST(profile_bucket(kMonday) == 0U);
    BOOST_TEST(profile_bucket(kMonday + 13 * kHour + 59 * 60'000) == 13U);
    // Saturday is 5 days after Monday: hour 2 of it is bucket 24 + 2.
    BOOST_TEST(profile_bucket(kMonday + 5 * kDay + 2 * kHour) == 26U);
    BOOST_TEST(profile_bucket(kMonday + 7 * kDay) == 0U); // Monday again
    BOOST_TEST(profile_bucket(0) == 0U);                  // 1970-01-01, a Thursday, 00 h
}

BOOST_AUTO_TEST_CASE(profile_learns_centre_per_hour_and_rate_per_hour) {
    const Model m = trained(14);
    const SeriesModel* t = m.find("d", "temperature");
    const SeriesModel* p = m.find("d", "motion");
    BOOST_REQUIRE(t != nullptr);
    BOOST_REQUIRE(p != nullptr);
    BOOST_TEST(!t->profile.binary);
    BOOST_TEST(std::fabs(t->profile.median + static_cast<double>(t->profile.centre[3]) - 17.0) <
               0.05); // night
    BOOST_TEST(std::fabs(t->profile.median + static_cast<double>(t->profile.centre[12]) - 20.0) <
               0.05); // day
    BOOST_TEST(t->profile.spread[12] > 0.05F);
    BOOST_TEST(t->profile.spread[12] < 0.3F);
    BOOST_TEST(p->profile.binary);
    BOOST_TEST(std::fabs(p->profile.centre[19] - 0.4F) < 0.05); // 600 readings an hour-bucket
    BOOST_TEST(p->profile.centre[3] < 0.01F);                   // (0 + 0.5) / (n + 1)
    BOOST_TEST(t->profile.limit > 0);
    BOOST_TEST(p->profile.limit > 0);
}

BOOST_AUTO_TEST_CASE(a_slow_drift_inside_the_zscore_is_flagged_once_by_the_profile) {
    const Model m = trained(14);
    Detector d({}, &m);
    std::mt19937_64 rng(99);
    // A normal day first: no profile flag.
    std::int64_t ts = kMonday + 14 * kDay;
    int flags = 0;
    for (; ts < kMonday + 15 * kDay; ts += kStep)
        flags += d.score(ts, "d", "temperature", room(ts, rng)).anomaly ? 1 : 0;
    BOOST_TEST(flags == 0);
    // Then the heating fails at 10 h: -1 C an hour, so each reading moves 0.017 C (a sixth of the
    // noise: no spike).
    ts = kMonday + 15 * kDay + 10 * kHour;
    int first = -1, anomalies = 0;
    for (int i = 0; i < 6 * 60; ++i, ts += kStep) {
        const Verdict v = d.score(ts, "d", "temperature", room(ts, rng) - i / 60.0);
        anomalies += v.anomaly ? 1 : 0;
        if (first < 0 && (v.reasons & kProfile) != 0)
            first = i;
    }
    BOOST_TEST(first > 0);
    BOOST_TEST(first < 120); // within two hours (2 C below this hour's centre)
    // The ten-hour gap before 10 h and the drift's onset, once each; and the change of variance
    // (volatility) half an hour in, the window straddling the night's 17 C and the failing day's
    // 20 C across the gap (inside the incident: not a false alarm).
    BOOST_TEST(anomalies <= 3);
}

BOOST_AUTO_TEST_CASE(motion_at_a_quiet_hour_is_flagged_but_not_at_a_busy_one) {
    const Model m = trained(14);
    Detector d({}, &m);
    // 03 h on a weekday: trained rate ~0. Motion in three readings of four for ten minutes.
    const std::int64_t night = kMonday + 15 * kDay + 3 * kHour;
    bool flagged = false;
    for (int i = 0; i < 10; ++i)
        flagged =
            flagged ||
            (d.score(night + i * kStep, "d", "motion", i % 4 == 3 ? 0 : 1).reasons & kProfile) != 0;
    BOOST_TEST(flagged);
    // 19 h the same day: the same pattern is within what this room does at that hour.
    Detector e({}, &m);
    const std::int64_t evening = kMonday + 15 * kDay + 19 * kHour;
    bool evening_flag = false;
    for (int i = 0; i < 10; ++i)
        evening_flag = evening_flag ||
                       (e.score(evening + i * kStep, "d", "motion", i % 4 == 3 ? 0 : 1).reasons &
                        kProfile) != 0;
    BOOST_TEST(!evening_flag);
}

// A household in Europe/Berlin keeps its hours by the wall clock: warm 07-23 h, busy 18-22 h local
// time. Trained on the two weeks before the autumn change (2025-10-26T01:00Z, CEST +2 to CET +1)
// and run over the four days around it: in its zone, no profile or activity flag; bucketed in UTC,
// its whole day moves an hour against the model and the profile flags the morning and the
// evening (a 3 C step an hour early or late is 30 spreads for an hour).
namespace {
constexpr std::int64_t kOct11 = 1'760'140'800'000; // 2025-10-11T00:00:00Z, a Saturday

struct DstRun {
    int layer_flags = 0; // readings with a profile or activity flag at their onset
};

DstRun run_across_autumn_change(const char* train_zone, const char* detect_zone) {
    const iots::core::Zone berlin = iots::core::Zone::named("Europe/Berlin");
    std::mt19937_64 rng(21);
    const auto at_home = [&](std::int64_t ts) { return berlin.local(ts); };
    History t{"d", "temperature", {}, {}}, m{"d", "motion", {}, {}};
    const std::int64_t cut = kOct11 + 14 * kDay; // 2025-10-25T00:00Z
    for (std::int64_t ts = kOct11; ts < cut; ts += kStep) {
        t.ts.push_back(ts);
        t.values.push_back(room(at_home(ts), rng));
        m.ts.push_back(ts);
        m.values.push_back(pir(at_home(ts), rng));
    }
    TrainOptions o;
    o.forest.trees = 10;
    o.zone = iots::core::Zone::named(train_zone);
    const Model model = train({t, m}, o).model;
    BOOST_TEST(model.zone == train_zone);
    DetectorOptions d_opts;
    d_opts.zone = iots::core::Zone::named(detect_zone);
    Detector d(d_opts, &model);
    DstRun run;
    for (std::int64_t ts = cut; ts < cut + 4 * kDay; ts += kStep) {
        for (const char* sensor : {"temperature", "motion"}) {
            const double x = sensor[0] == 't' ? room(at_home(ts), rng) : pir(at_home(ts), rng);
            const Verdict v = d.score(ts, "d", sensor, x);
            if (v.anomaly && ((v.reasons & kProfile) != 0 || (v.reasons & kActivity) != 0))
                ++run.layer_flags;
        }
    }
    return run;
}
} // namespace

BOOST_AUTO_TEST_CASE(a_household_in_its_zone_crosses_the_autumn_change_without_a_flag) {
    const DstRun local = run_across_autumn_change("Europe/Berlin", "Europe/Berlin");
    BOOST_TEST(local.layer_flags == 0);
    const DstRun utc = run_across_autumn_change("UTC", "UTC");
    BOOST_TEST(utc.layer_flags >= 4); // two on each of the days after the change, at least
}
