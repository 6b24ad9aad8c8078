#define BOOST_TEST_MODULE detect_joint
// The joint layer (issue 12, "multivariate where it pays"): the relation between a device's
// numeric sensors, learnt online, alone and through the detector.
#include "iotshield/detect/detector.hpp"
#include "iotshield/detect/file_format.hpp"
#include "iotshield/detect/joint.hpp"

#include <boost/test/unit_test.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace iots::detect;

namespace {
constexpr std::int64_t kStart = 1'759'708'800'000; // 2025-10-06T00:00:00Z
constexpr std::int64_t kStep = 1000;

// A reproducible uniform number in (0, 1) from an index (no library distribution involved).
double u01(std::uint64_t i) {
    std::uint64_t x = i * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    return (static_cast<double>(x >> 11) + 0.5) / 9007199254740992.0;
}

// A standard normal number from an index (Box-Muller).
double normal(std::uint64_t i) {
    return std::sqrt(-2.0 * std::log(u01(2 * i))) * std::cos(6.283185307179586 * u01(2 * i + 1));
}

struct Tally {
    int flags = 0;       // anomaly flags of any check
    int joint_flags = 0; // anomaly flags while the joint condition holds
    int joint_holds = 0; // readings where it holds
};

// Two channels of one device that move together: b = a + small noise (correlation 0.999), each
// with unit spread. From row `break_at` on b follows -a instead: each channel alone keeps its
// level and spread, only their relation changes.
Tally run_pair(Detector& d, int rows, int break_at) {
    Tally t;
    for (int i = 0; i < rows; ++i) {
        const auto ts = kStart + i * kStep;
        const double a = normal(static_cast<std::uint64_t>(i));
        const double noise = 0.05 * normal(1'000'000 + static_cast<std::uint64_t>(i));
        const double b = (i < break_at ? a : -a) + noise;
        for (const Verdict& v :
             {d.score(ts, "pump", "current", a), d.score(ts, "pump", "flow", b)}) {
            t.flags += v.anomaly ? 1 : 0;
            t.joint_holds += (v.reasons & kJoint) != 0 ? 1 : 0;
            t.joint_flags += v.anomaly && (v.reasons & kJoint) != 0 ? 1 : 0;
        }
    }
    return t;
}
} // namespace

BOOST_AUTO_TEST_CASE(state_is_small_flat_and_copyable_as_bytes) {
    static_assert(std::is_trivially_copyable_v<JointState>);
    static_assert(JointState::kStateVersion == 2);
    BOOST_TEST(sizeof(JointState) <= 2048U);
}

namespace {
std::string saved(const JointState& j) {
    ByteWriter w;
    j.save(w);
    return w.out();
}
} // namespace

BOOST_AUTO_TEST_CASE(saved_state_holds_the_channels_in_use_and_resumes_bit_for_bit) {
    // The state file's layer: what a device of one channel saves is small (the file of a lone
    // series, such as NAB's, stays within 8 KiB), and a state saved and loaded goes on as the
    // original, row in progress, event and calibration included.
    const JointLevels levels;
    JointState one;
    for (int i = 0; i < 500; ++i)
        (void)one.observe(kStart + i * kStep, "value", normal(static_cast<std::uint64_t>(i)),
                          levels);
    BOOST_TEST(saved(one).size() == 91U); // 1 + 1 + 5 ("value") + 84
    BOOST_TEST(saved(JointState{}).size() == 1U + 1 + 1 + 2 + 8 + 32);

    JointState a;
    JointState b;
    bool loaded = false;
    int joint_rows = 0;
    for (int i = 0; i < 6000; ++i) {
        const auto ts = kStart + i * kStep;
        const auto u = static_cast<std::uint64_t>(i);
        const double x = normal(u);
        // three channels whose relation breaks for a while from row 4000 on
        const double y = (i >= 4000 && i < 4100 ? -x : x) + 0.1 * normal(50'000 + u);
        const std::array<std::pair<const char*, double>, 3> row{
            {{"current", x}, {"flow", y}, {"pressure", 3 + 0.2 * normal(90'000 + u)}}};
        for (std::size_t c = 0; c < row.size(); ++c) {
            // restarts: mid-row, and inside the event (the second also checks the lockstep)
            if ((i == 2000 && c == 1) || (i == 4050 && c == 2)) {
                if (loaded)
                    BOOST_TEST(saved(b) == saved(a));
                BOOST_TEST_REQUIRE(b.load(saved(a)));
                BOOST_TEST(saved(b) == saved(a));
                loaded = true;
            }
            const JointStep sa = a.observe(ts, row[c].first, row[c].second, levels);
            joint_rows += sa.holds ? 1 : 0;
            if (!loaded)
                continue;
            const JointStep sb = b.observe(ts, row[c].first, row[c].second, levels);
            BOOST_TEST(sa.scored == sb.scored);
            BOOST_TEST(sa.holds == sb.holds);
            BOOST_TEST(std::memcmp(&sa.log_p, &sb.log_p, sizeof sa.log_p) == 0);
        }
    }
    BOOST_TEST(a.channels() == 3U);
    BOOST_TEST(joint_rows > 0); // the event was there to carry across the restart
    BOOST_TEST(saved(a).size() == 1U + 3 * 1 + 7 + 4 + 8 + 1 + 1 + 2 + 8 + 32 + 3 * 32 + 6 * 8);
}

BOOST_AUTO_TEST_CASE(a_saved_state_out_of_range_does_not_load) {
    JointState j;
    for (int i = 0; i < 100; ++i) {
        (void)j.observe(kStart + i * kStep, "current", normal(static_cast<std::uint64_t>(i)), {});
        (void)j.observe(kStart + i * kStep, "flow", normal(1000 + static_cast<std::uint64_t>(i)),
                        {});
    }
    const std::string good = saved(j);
    JointState k;
    BOOST_TEST(k.load(good));
    const std::size_t fixed = 1 + (1 + 7) + (1 + 4); // channels, "current", "flow"
    const auto refused = [&](std::string bytes) {
        JointState t = k;
        const bool ok = t.load(bytes);
        BOOST_TEST(saved(t) == good); // unchanged when refused
        return !ok;
    };
    BOOST_TEST(refused(""));
    BOOST_TEST(refused(good.substr(0, good.size() - 1)));
    BOOST_TEST(refused(good + "x"));
    std::string bad = good;
    bad[0] = 9; // channels
    BOOST_TEST(refused(bad));
    bad = good;
    bad[1] = 0; // a name of no characters
    BOOST_TEST(refused(bad));
    bad = good;
    bad[fixed] = 4; // a pending channel beyond the two
    BOOST_TEST(refused(bad));
    bad = good;
    bad[fixed + 1] = 8; // an unknown flag
    BOOST_TEST(refused(bad));
    bad = good;
    bad[fixed + 4 + 7] = 0x7F; // the row's ts far past 2^53 ms
    BOOST_TEST(refused(bad));
}

BOOST_AUTO_TEST_CASE(f_tail_matches_closed_forms) {
    // d1 = 2: P(F > f) = (1 + 2 f / d2)^(-d2 / 2). d2 = 10, f = 3: 1.6^-5 = 0.095367431640625.
    BOOST_TEST(std::exp(log_f_tail(3.0, 2, 10)) == 0.095367431640625,
               boost::test_tools::tolerance(1e-9));
    // Far in the tail, in logs: f = 1000: -5 ln(201) = -26.50535...
    BOOST_TEST(log_f_tail(1000.0, 2, 10) == -5.0 * std::log(201.0),
               boost::test_tools::tolerance(1e-9));
    // d1 = d2: the median of F is 1.
    BOOST_TEST(std::exp(log_f_tail(1.0, 7, 7)) == 0.5, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(log_f_tail(0.0, 3, 40) == 0.0);
}

BOOST_AUTO_TEST_CASE(changed_relation_no_single_channel_shows_is_flagged_once) {
    Detector d;
    const Tally t = run_pair(d, 4000, 3000);
    BOOST_TEST(t.joint_holds > 0);
    BOOST_TEST(t.joint_flags == 1);
    BOOST_TEST(t.flags == 1); // the onset, nothing before the break

    // The same stream with the joint layer unable to speak: no single series shows the change.
    DetectorOptions silent;
    silent.joint.alpha = 1e-300;
    silent.joint.onset_raise = 0;
    Detector s(silent);
    const Tally u = run_pair(s, 4000, 3000);
    BOOST_TEST(u.flags == 0);
    BOOST_TEST(u.joint_holds == 0);
}

BOOST_AUTO_TEST_CASE(the_flag_is_on_the_reading_that_completes_the_row) {
    Detector d;
    bool seen = false;
    for (int i = 0; i < 4000 && !seen; ++i) {
        const auto ts = kStart + i * kStep;
        const double a = normal(static_cast<std::uint64_t>(i));
        const double b =
            (i < 3000 ? a : -a) + 0.05 * normal(1'000'000 + static_cast<std::uint64_t>(i));
        const Verdict first = d.score(ts, "pump", "current", a);
        const Verdict last = d.score(ts, "pump", "flow", b);
        BOOST_TEST((first.reasons & kJoint) == 0);
        seen = last.anomaly && (last.reasons & kJoint) != 0;
    }
    BOOST_TEST(seen);
}

BOOST_AUTO_TEST_CASE(independent_noise_stays_silent) {
    // Four independent channels, a day of rows at 5 s: nothing to find.
    Detector d;
    int joint = 0;
    const char* sensors[] = {"temperature", "humidity", "gas", "light"};
    for (int i = 0; i < 17'280; ++i) {
        const auto ts = kStart + i * 5000LL;
        for (std::uint64_t c = 0; c < 4; ++c) {
            const double v = 100.0 + normal(c * 10'000'000 + static_cast<std::uint64_t>(i));
            const Verdict r = d.score(ts, "node", sensors[c], v);
            joint += (r.reasons & kJoint) != 0 ? 1 : 0;
        }
    }
    BOOST_TEST(joint == 0);
}

BOOST_AUTO_TEST_CASE(single_channel_device_is_never_scored) {
    // One numeric sensor and a binary one (motion is no channel): no joint statistic at all, even
    // when the numeric series jumps far away.
    JointState j;
    const JointLevels levels;
    for (int i = 0; i < 3000; ++i) {
        const auto ts = kStart + i * kStep;
        const double v = (i < 2000 ? 0.0 : 50.0) + normal(static_cast<std::uint64_t>(i));
        const JointStep a = j.observe(ts, "temperature", v, levels);
        const JointStep b = j.observe(ts, "motion", i % 7 == 0 ? 1.0 : 0.0, levels);
        BOOST_TEST(!a.scored);
        BOOST_TEST(!b.scored);
    }
    BOOST_TEST(j.channels() == 1U);

    Detector d;
    for (int i = 0; i < 3000; ++i) {
        const Verdict v = d.score(kStart + i * kStep, "nab", "value",
                                  (i < 2000 ? 0.0 : 50.0) + normal(static_cast<std::uint64_t>(i)));
        BOOST_TEST((v.reasons & kJoint) == 0);
    }
}

BOOST_AUTO_TEST_CASE(flagged_rows_are_not_learnt_as_normal) {
    // Learn the pair's relation, then show one row that breaks it: the row holds, and it moves
    // the learnt mean by flagged_weight of what the same row moves it when learnt as normal.
    const JointLevels levels;
    JointState j;
    int i = 0;
    for (; i < 3000; ++i) {
        const auto ts = kStart + i * kStep;
        const double a = normal(static_cast<std::uint64_t>(i));
        (void)j.observe(ts, "current", a, levels);
        (void)j.observe(ts, "flow", a + 0.05 * normal(1'000'000 + static_cast<std::uint64_t>(i)),
                        levels);
    }
    const auto ts = kStart + i * kStep;
    JointState normal_copy = j; // raw copy of the state, as a state file would restore it
    JointLevels learn_all = levels;
    learn_all.alpha = 1e-300;
    learn_all.onset_raise = 0;

    const double before = j.mean(1);
    (void)j.observe(ts, "current", 2.0, levels);
    const JointStep flagged = j.observe(ts, "flow", -2.0, levels);
    BOOST_TEST(flagged.scored);
    BOOST_TEST(flagged.holds);
    (void)normal_copy.observe(ts, "current", 2.0, learn_all);
    const JointStep learnt = normal_copy.observe(ts, "flow", -2.0, learn_all);
    BOOST_TEST(learnt.scored);
    BOOST_TEST(!learnt.holds);

    const double moved_flagged = std::fabs(j.mean(1) - before);
    const double moved_normal = std::fabs(normal_copy.mean(1) - before);
    BOOST_TEST(moved_normal > 0.0);
    // weight 0.1 instead of 1 in an exponentially weighted mean: 0.1 / (W + 0.1) vs 1 / (W + 1)
    BOOST_TEST(moved_flagged < 0.11 * moved_normal);
    BOOST_TEST(moved_flagged > 0.0);
}

BOOST_AUTO_TEST_CASE(rows_complete_by_the_next_timestamp_too) {
    // A device whose sensors do not all report at every ts: the next ts closes the row and the
    // missing channel keeps its last value.
    JointState j;
    const JointLevels levels;
    int scored = 0;
    for (int i = 0; i < 500; ++i) {
        const auto ts = kStart + i * kStep;
        const double a = normal(static_cast<std::uint64_t>(i));
        scored += j.observe(ts, "current", a, levels).scored ? 1 : 0;
        if (i % 2 == 0)
            scored += j.observe(ts, "flow", a, levels).scored ? 1 : 0;
    }
    BOOST_TEST(j.channels() == 2U);
    BOOST_TEST(scored > 300);
}

BOOST_AUTO_TEST_CASE(heavy_tailed_rows_settle_near_the_target_rate) {
    // Two related channels whose noise has heavy tails (Student's t with 4 degrees of freedom):
    // more extreme rows than a Gaussian level expects (17 onsets in these ten days of a row a
    // minute without the calibration, 5 with it). The calibration keeps the onsets near
    // onsets_per_day (0.2 a day: 2, plus the first ones while the level steps up from alpha).
    auto t4 = [](std::uint64_t i) {
        double c = 0;
        for (std::uint64_t j = 1; j <= 4; ++j)
            c += normal(5 * i + j) * normal(5 * i + j);
        return normal(5 * i) / std::sqrt(c / 4);
    };
    Detector d;
    int onsets = 0;
    for (int i = 0; i < 14'400; ++i) {
        const auto ts = kStart + i * 60'000LL;
        const double a = t4(static_cast<std::uint64_t>(i));
        const double b = a + 0.3 * t4(5'000'000 + static_cast<std::uint64_t>(i));
        (void)d.score(ts, "hall", "temperature", 20 + a);
        const Verdict v = d.score(ts, "hall", "humidity", 50 + b);
        onsets += v.anomaly && (v.reasons & kJoint) != 0 ? 1 : 0;
    }
    BOOST_TEST(onsets <= 8);
}

BOOST_AUTO_TEST_CASE(a_row_already_flagged_is_not_flagged_again) {
    // A spike on one channel breaks the pair's relation too: the spike check flags it on its own
    // reading, and the joint condition that holds on the reading completing the row adds no
    // second flag for the same timestamp.
    Detector d;
    int flags = 0;
    bool joint_held_unflagged = false;
    for (int i = 0; i < 3100; ++i) {
        const auto ts = kStart + i * kStep;
        const double a = normal(static_cast<std::uint64_t>(i));
        const double b = a + 0.05 * normal(1'000'000 + static_cast<std::uint64_t>(i));
        const Verdict first = d.score(ts, "pump", "current", i == 3000 ? 40.0 : a);
        const Verdict last = d.score(ts, "pump", "flow", b);
        flags += (first.anomaly ? 1 : 0) + (last.anomaly ? 1 : 0);
        if (i == 3000) {
            BOOST_TEST(first.anomaly);
            BOOST_TEST((first.reasons & kJoint) == 0);
            joint_held_unflagged = (last.reasons & kJoint) != 0 && !last.anomaly;
        }
    }
    BOOST_TEST(joint_held_unflagged);
    BOOST_TEST(flags == 1);
}

namespace {
// Learns 3000 rows of the pair (b = a + small noise), then shows `rows` rows where b sits `shift`
// above a and a varies little: every row is moderately unlikely (p about 1e-3, never under the
// level's 1e-4), the relation has drifted apart. `every`: only every so many rows drift, the
// others are normal. Returns the first drifted row that holds the condition, or -1.
int weak_drift(int rows, int every, double shift) {
    const JointLevels levels;
    JointState j;
    int i = 0;
    for (; i < 3000; ++i) {
        const auto ts = kStart + i * kStep;
        const double a = normal(static_cast<std::uint64_t>(i));
        (void)j.observe(ts, "current", a, levels);
        (void)j.observe(ts, "flow", a + 0.05 * normal(1'000'000 + static_cast<std::uint64_t>(i)),
                        levels);
    }
    for (int r = 0; r < rows; ++r, ++i) {
        const auto ts = kStart + i * kStep;
        const bool drift = r % every == 0;
        const double a = (drift ? 0.3 : 1.0) * normal(static_cast<std::uint64_t>(i));
        const double b =
            a + (drift ? shift : 0.05 * normal(1'000'000 + static_cast<std::uint64_t>(i)));
        (void)j.observe(ts, "current", a, levels);
        const JointStep s = j.observe(ts, "flow", b, levels);
        BOOST_TEST(s.scored);
        if (drift && !s.holds)
            BOOST_TEST(s.log_p > std::log(levels.alpha)); // no single row is under the level
        if (s.holds)
            return r;
    }
    return -1;
}
} // namespace

BOOST_AUTO_TEST_CASE(a_relation_drifting_apart_is_an_onset_before_any_row_is_extreme) {
    // Moderately unlikely rows in a row: the evidence builds up and the layer holds within
    // about evidence_rows rows.
    const int onset = weak_drift(200, 1, 1.1);
    BOOST_TEST(onset >= 0);
    BOOST_TEST(onset < 20);
    // The same rows scattered among normal ones (one in 25) build no evidence: nothing holds.
    BOOST_TEST(weak_drift(2000, 25, 1.1) == -1);
}
