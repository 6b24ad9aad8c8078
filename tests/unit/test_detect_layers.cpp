#define BOOST_TEST_MODULE detect_layers
// The activity layer of event series and the k-means ensemble (issue 3), alone and through the
// detector with a trained model.
#include "iotshield/detect/activity.hpp"
#include "iotshield/detect/detector.hpp"
#include "iotshield/detect/kmeans.hpp"
#include "iotshield/detect/model.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

using namespace iots::detect;

namespace {
constexpr std::int64_t kStart = 1'759'708'800'000; // 2025-10-06T00:00:00Z, a Monday
constexpr std::int64_t kStep = 5000;
constexpr std::int64_t kHour = 3'600'000;

// A reproducible uniform number in [0, 1) from an index (no library distribution involved).
double u01(std::uint64_t i) {
    std::uint64_t x = i * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    return static_cast<double>(x >> 11) / 9007199254740992.0;
}

// A room's PIR: occupied 18:00-22:00 with a trigger chance of 0.3 per reading, and a stray
// trigger (1e-4) otherwise.
double pir(std::int64_t ts, std::uint64_t i) {
    const auto hour = ((ts - kStart) / kHour) % 24;
    const double p = hour >= 18 && hour < 22 ? 0.3 : 1e-4;
    return u01(i) < p ? 1.0 : 0.0;
}

History pir_history(int days) {
    History h{"node", "motion", {}, {}};
    const std::int64_t n = days * 86'400'000LL / kStep;
    for (std::int64_t i = 0; i < n; ++i) {
        h.ts.push_back(kStart + i * kStep);
        h.values.push_back(pir(kStart + i * kStep, static_cast<std::uint64_t>(i)));
    }
    return h;
}

// Ten minutes of an intruder from `night` on (a trigger chance of 0.75 per reading): how many
// activity onsets were flagged, the index of the first (-1: none), and how many readings had the
// activity reason at all.
struct Onsets {
    int count = 0;
    std::int64_t first = -1;
    int with_reason = 0;
};
Onsets intruder(Detector& d, std::int64_t night) {
    Onsets o;
    for (std::int64_t i = 0; i < 120; ++i) {
        const Verdict v =
            d.score(night + i * kStep, "node", "motion",
                    u01(5'000'000 + static_cast<std::uint64_t>(i)) < 0.75 ? 1.0 : 0.0);
        o.with_reason += (v.reasons & kActivity) != 0 ? 1 : 0;
        if (v.anomaly && (v.reasons & kActivity) != 0) {
            ++o.count;
            if (o.first < 0)
                o.first = i;
        }
    }
    return o;
}
} // namespace

BOOST_AUTO_TEST_CASE(activity_count_decays_with_time_not_readings) {
    ActivityState a;
    BOOST_TEST(a.observe(0, 1.0) == 1.0);
    BOOST_TEST(a.observe(1000, 1.0) == 1.0 + std::exp(-1000.0 / kActivityTauMs),
               boost::test_tools::tolerance(1e-12));
    ActivityState b; // one event, then a reading one time constant later
    (void)b.observe(0, 1.0);
    BOOST_TEST(b.observe(static_cast<std::int64_t>(kActivityTauMs), 0.0) == std::exp(-1.0),
               boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(activity_levels_follow_the_hours_of_the_day) {
    const History h = pir_history(8);
    const ActivityProfile p = build_activity(h.ts, h.values, {h.ts.size()}, iots::core::Zone{});
    BOOST_REQUIRE(!p.empty());
    const std::size_t night = profile_bucket(kStart + 3 * kHour);
    const std::size_t evening = profile_bucket(kStart + 20 * kHour);
    // Busy evening: about 0.3 x 60 events in five minutes, more at the peak; quiet night: the
    // floor of two events plus a stray trigger or two.
    BOOST_TEST(p.limit[evening] > 18.0f);
    BOOST_TEST(p.limit[night] < 5.0f);
    BOOST_TEST(p.limit[night] >= 2.0f);
    // The neighbouring hours share the level: 17:00 and 22:00 may see the evening's activity.
    BOOST_TEST(p.limit[profile_bucket(kStart + 17 * kHour)] > 18.0f);
    BOOST_TEST(p.limit[profile_bucket(kStart + 22 * kHour)] > 18.0f);
    BOOST_TEST(p.limit[profile_bucket(kStart + 15 * kHour)] < 5.0f);
}

BOOST_AUTO_TEST_CASE(activity_flags_the_onset_of_a_busy_night_once) {
    TrainOptions o;
    o.forest.trees = 10;
    const Model model = train({pir_history(8)}, o).model;
    BOOST_REQUIRE(model.series.size() == 1U);
    Detector d({}, &model);
    // Two normal days (another stretch of the same process): no activity flag. Then, at 03:00,
    // ten minutes of an intruder's 0.75 triggers per reading: one onset, within a minute.
    const std::int64_t from = kStart + 8 * 86'400'000LL;
    int normal_flags = 0;
    const std::int64_t n = 2 * 86'400'000LL / kStep;
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t ts = from + i * kStep;
        const Verdict v =
            d.score(ts, "node", "motion", pir(ts, 1'000'000 + static_cast<std::uint64_t>(i)));
        normal_flags += (v.anomaly && (v.reasons & kActivity) != 0) ? 1 : 0;
    }
    BOOST_TEST(normal_flags == 0);
    const std::int64_t night = from + 2 * 86'400'000LL + 3 * kHour;
    const Onsets got = intruder(d, night);
    BOOST_TEST(got.count == 1);
    BOOST_TEST(got.first >= 0);
    BOOST_TEST(got.first < 12);
    std::vector<std::string> names;
    reason_names(kActivity | kKmeans | kZscore, names);
    BOOST_TEST((names == std::vector<std::string>{"zscore", "activity", "kmeans"}));
}

BOOST_AUTO_TEST_CASE(learnt_activity_judges_an_hour_after_three_of_its_kind) {
    // Issue 12: the activity levels learnt online. An hour's largest count joins its bucket when
    // the hour ends; a bucket judges once three hours of it were learnt, against the largest of
    // it and its neighbours times 1.5, plus two events.
    LearntActivity a;
    const std::int64_t three = kStart + 3 * kHour; // a Monday, 03:00
    for (int day = 0; day < 3; ++day) {
        const std::int64_t at = three + day * 86'400'000LL;
        BOOST_TEST(a.ratio(1.0, at) == 0.0); // not learnt yet: silent
        a.learn(day == 1 ? 5.0 : 1.0);
        BOOST_TEST(a.ratio(50.0, at + 30 * 60'000) == 0.0); // within the hour: still not
        a.learn(2.0);
    }
    const std::int64_t fourth = three + 3 * 86'400'000LL;
    BOOST_TEST(a.ratio(8.0, fourth) == 8.0 / (1.5 * 5.0 + 2.0), boost::test_tools::tolerance(1e-6));
    // A burst learnt within the hour does not raise the hour's own level.
    a.learn(100.0);
    BOOST_TEST(a.ratio(8.0, fourth + 60'000) == 8.0 / 9.5, boost::test_tools::tolerance(1e-6));
    // 04:00 has learnt nothing (the burst joins 03:00 now): silent, and 03:00's level rose.
    BOOST_TEST(a.ratio(8.0, fourth + kHour) == 0.0);
    BOOST_TEST(a.ratio(8.0, fourth + 86'400'000LL) == 8.0 / (1.5 * 100.0 + 2.0),
               boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(without_a_model_a_busy_night_is_flagged_once_after_three_days) {
    // No model: the motion sensor learns its hours from the stream. Four normal days (busy
    // evenings, stray triggers at night) raise no activity flag; then ten minutes of an
    // intruder's 0.75 triggers per reading at 03:00: one onset, within a minute.
    Detector d;
    int normal_flags = 0;
    const std::int64_t n = 4 * 86'400'000LL / kStep;
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t ts = kStart + i * kStep;
        const Verdict v = d.score(ts, "node", "motion", pir(ts, static_cast<std::uint64_t>(i)));
        normal_flags += (v.reasons & kActivity) != 0 ? 1 : 0;
    }
    BOOST_TEST(normal_flags == 0);
    const std::int64_t night = kStart + 4 * 86'400'000LL + 3 * kHour;
    const Onsets got = intruder(d, night);
    BOOST_TEST(got.count == 1);
    BOOST_TEST(got.first >= 0);
    BOOST_TEST(got.first < 12);
    // The same ten minutes in the first night, before three nights were learnt: not judged.
    Detector fresh;
    BOOST_TEST(intruder(fresh, kStart + 3 * kHour).with_reason == 0);
}

BOOST_AUTO_TEST_CASE(per_series_state_stays_flat_and_small) {
    BOOST_TEST(sizeof(Detector::Series) <= 8192U);
    BOOST_TEST(sizeof(ActivityState) <= 24U);
    BOOST_TEST(sizeof(LearntActivity) <= 256U);
    BOOST_TEST(sizeof(KmeansState) <= 128U);
}

BOOST_AUTO_TEST_CASE(kmeans_features_are_smoothed_lagged_differences) {
    KmeansState st;
    KmeansPoint x{};
    int full = 0;
    for (int i = 0; i < 20; ++i)
        full += st.observe(2.0 * i, x) ? 1 : 0; // a ramp: every difference is 2
    BOOST_TEST(full == 20 - static_cast<int>(1 + kKmeansSmooth + kKmeansDims) + 1);
    for (double v : x)
        BOOST_TEST(v == 2.0);
}

BOOST_AUTO_TEST_CASE(kmeans_ensemble_agrees_on_a_spike_not_on_noise) {
    std::vector<double> values;
    for (int i = 0; i < 6000; ++i)
        values.push_back(20.0 + std::sin(i / 300.0) +
                         0.1 * (u01(static_cast<std::uint64_t>(i)) - 0.5));
    const KmeansEnsemble e = train_kmeans(values, {values.size()}, 1e-4);
    BOOST_REQUIRE(!e.empty());
    BOOST_TEST(e.models == kKmeansModels);
    // Same data, same ensemble.
    const KmeansEnsemble again = train_kmeans(values, {values.size()}, 1e-4);
    BOOST_TEST(again.centres == e.centres);
    BOOST_TEST(again.level == e.level);
    KmeansState st;
    KmeansPoint x{};
    double worst_normal = 0, spike = 0;
    for (int i = 0; i < 2000; ++i) {
        double v =
            20.0 + std::sin(i / 300.0) + 0.1 * (u01(900'000 + static_cast<std::uint64_t>(i)) - 0.5);
        if (i == 1500)
            v += 5.0;
        if (st.observe(v, x)) {
            const double a = e.agreement(x);
            if (i >= 1500 && i < 1500 + static_cast<int>(kKmeansSmooth))
                spike = std::max(spike, a);
            else if (i < 1500)
                worst_normal = std::max(worst_normal, a);
        }
    }
    BOOST_TEST(spike > 1.0);
    BOOST_TEST(worst_normal < 1.0);
    // Too little history: no ensemble.
    BOOST_TEST(train_kmeans(std::vector<double>(50, 1.0), {50}, 1e-4).empty());
}
