#define BOOST_TEST_MODULE detect_stream
#include "iotshield/detect/detector.hpp"
#include "iotshield/detect/series.hpp"
#include "iotshield/record/safety.hpp"
#include "iotshield/record/sensor.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace iots::detect;

namespace {
constexpr std::int64_t kStart = 1'761'400'000'000; // 2025-10-25T13:46:40Z
constexpr std::int64_t kStep = 5'000;              // one reading every 5 s

bool has(const Verdict& v, Reason r) {
    return (v.reasons & r) != 0;
}

// A room temperature: 21 C plus Gaussian noise of 0.05 C, quantised to 0.01 like a BME280.
double room(std::mt19937_64& rng) {
    std::normal_distribution<double> n(0.0, 0.05);
    return std::round((21.0 + n(rng)) * 100.0) / 100.0;
}
} // namespace

BOOST_AUTO_TEST_CASE(series_state_fits_in_4_kib_and_the_whole_entry_in_8) {
    // The whole per-series entry of the detector, not only the statistics (issue 12: 8 KiB with
    // the online layer).
    BOOST_TEST(sizeof(SeriesState) < 4096U);
    BOOST_TEST(sizeof(Detector::Series) <= 8192U);
}

BOOST_AUTO_TEST_CASE(median_and_mad_of_sorted_values_equal_nth_element) {
    // Continuous and heavily quantised values (ties, MAD 0), every window size up to kWindow.
    std::mt19937_64 rng(21);
    std::normal_distribution<double> g(0.0, 1.0);
    for (int round = 0; round < 400; ++round) {
        const std::size_t n = 1 + static_cast<std::size_t>(round) % kWindow;
        std::vector<double> v(n);
        for (auto& x : v)
            x = round % 3 == 0 ? std::round(g(rng)) : round % 3 == 1 ? g(rng) * 1e-3 : 20 + g(rng);
        std::vector<double> ref = v;
        const auto mid = static_cast<std::ptrdiff_t>(n / 2);
        std::nth_element(ref.begin(), ref.begin() + mid, ref.end());
        const double median = ref[static_cast<std::size_t>(mid)];
        for (auto& x : ref)
            x = std::fabs(x - median);
        std::nth_element(ref.begin(), ref.begin() + mid, ref.end());
        std::sort(v.begin(), v.end());
        const auto [m, mad] = median_mad_sorted(v.data(), n);
        BOOST_TEST(m == median);
        BOOST_TEST(mad == ref[static_cast<std::size_t>(mid)]);
    }
}

BOOST_AUTO_TEST_CASE(sorted_ring_stays_the_sorted_ring) {
    // A ring of 16 replaced in order, against sorting the ring itself after every step.
    std::mt19937_64 rng(22);
    std::uniform_int_distribution<std::int64_t> pick(0, 9); // many ties
    std::array<std::int64_t, 16> ring{}, sorted{};
    std::uint32_t filled = 0, head = 0;
    for (int i = 0; i < 2000; ++i) {
        const std::int64_t x = pick(rng) * 1000;
        if (filled == ring.size())
            detail::sorted_replace(sorted, filled, ring[head], x);
        else
            detail::sorted_insert(sorted, filled, x);
        ring[head] = x;
        head = (head + 1) % ring.size();
        filled = std::min<std::uint32_t>(filled + 1, 16);
        std::array<std::int64_t, 16> ref = ring;
        std::sort(ref.begin(), ref.begin() + filled);
        BOOST_TEST(std::equal(ref.begin(), ref.begin() + filled, sorted.begin()));
    }
}

BOOST_AUTO_TEST_CASE(flame_and_gas_flag_from_the_first_reading_without_a_model) {
    Detector d;
    const Verdict f = d.score(kStart, "kitchen", "flame", 1);
    BOOST_TEST(f.anomaly);
    BOOST_TEST(has(f, kFlame));
    BOOST_TEST(f.score == 1.0);
    const Verdict g = d.score(kStart, "kitchen", "gas", 1600);
    BOOST_TEST(g.anomaly);
    BOOST_TEST(has(g, kGas));
    const Verdict ok = d.score(kStart, "hall", "gas", 1400);
    BOOST_TEST(!ok.anomaly);
}

// iots-detect's alarm lane carries record::kSafetyKinds: exactly the known kinds whose first
// reading can flag (at its range's maximum: flame 1, gas 10000 ppm, temperature 125 C), so that
// no kind that can raise a fire or gas alarm at once is left in the ordinary lane.
BOOST_AUTO_TEST_CASE(the_safety_kinds_are_the_kinds_that_flag_from_the_first_reading) {
    std::size_t count = 0;
    const iots::record::SensorInfo* known = iots::record::known_sensors(count);
    std::size_t flagging = 0;
    for (std::size_t i = 0; i < count; ++i) {
        Detector d;
        const bool first = d.score(kStart, "n", known[i].name, known[i].max).anomaly;
        BOOST_TEST_CONTEXT(known[i].name) {
            BOOST_TEST(first == iots::record::has_safety_threshold(known[i].kind));
        }
        flagging += first ? 1 : 0;
    }
    BOOST_TEST(flagging == iots::record::kSafetyKinds.size());
    for (const auto kind : iots::record::kSafetyKinds)
        BOOST_TEST(iots::record::has_safety_threshold(kind));
}

BOOST_AUTO_TEST_CASE(safety_thresholds_keep_flagging_while_the_danger_lasts) {
    Detector d;
    for (int i = 0; i < 20; ++i) {
        const Verdict v = d.score(kStart + i * kStep, "kitchen", "flame", 1);
        BOOST_TEST(v.anomaly);
    }
    const Verdict off = d.score(kStart + 20 * kStep, "kitchen", "flame", 0);
    BOOST_TEST(!off.anomaly);
}

BOOST_AUTO_TEST_CASE(heat_level_is_57_c_and_follows_en54_5_class_with_a_model_max) {
    Detector d;
    BOOST_TEST(!d.score(kStart, "a", "temperature", 56.9).anomaly);
    BOOST_TEST(has(d.score(kStart + kStep, "a", "temperature", 57.0), kHeat));
    // A location that normally reaches 70 C is class C (max application 80 C): alarm at 84 C.
    BOOST_TEST(heat_level_for(70.0, 57.0) == 84.0);
    BOOST_TEST(heat_level_for(30.0, 57.0) == 57.0);
    BOOST_TEST(heat_level_for(30.0, 60.0) == 60.0);
}

BOOST_AUTO_TEST_CASE(rate_of_rise_flags_a_fast_sustained_rise_but_not_one_reading) {
    // 21 C steady for 5 minutes, then +1.5 C per 5 s reading = 18 C/min (> 8.3 C/min).
    Detector d;
    std::int64_t t = kStart;
    for (int i = 0; i < 60; ++i, t += kStep)
        BOOST_TEST(!has(d.score(t, "a", "temperature", 21.0), kRor));
    bool seen = false;
    int first = -1;
    for (int i = 1; i <= 12 && !seen; ++i, t += kStep) {
        seen = has(d.score(t, "a", "temperature", 21.0 + 1.5 * i), kRor);
        if (seen)
            first = i;
    }
    BOOST_TEST(seen);
    // Reading 1 is +1.5 C over 60 s = 1.5 C/min; reading 6 is +9 C over 60 s = 9 C/min, and
    // reading 5 showed 7.5 C/min, so the two-reading rule first holds at reading 7.
    BOOST_TEST(first == 7);

    // One wild reading (a glitch) is a spike, not a rate of rise (once the spike's tail has
    // learnt the series: 16 + 96 readings).
    Detector g;
    t = kStart;
    for (int i = 0; i < 300; ++i, t += kStep)
        (void)g.score(t, "a", "temperature", 21.0);
    const Verdict v = g.score(t, "a", "temperature", 40.0);
    BOOST_TEST(!has(v, kRor));
    BOOST_TEST(has(v, kSpike));
    BOOST_TEST(v.anomaly);
}

BOOST_AUTO_TEST_CASE(zscore_flags_a_level_shift_once_at_its_onset) {
    std::mt19937_64 rng(7);
    Detector d;
    std::int64_t t = kStart;
    int flags = 0;
    for (int i = 0; i < 2000; ++i, t += kStep)
        flags += d.score(t, "a", "temperature", room(rng)).anomaly ? 1 : 0;
    BOOST_TEST(flags == 0);
    // +2 C is 40 sigma: flagged at the first reading, then not again while it lasts.
    int first = -1;
    flags = 0;
    for (int i = 0; i < 300; ++i, t += kStep) {
        const Verdict v = d.score(t, "a", "temperature", room(rng) + 2.0);
        if (v.anomaly) {
            ++flags;
            if (first < 0)
                first = i;
            BOOST_TEST(has(v, kZscore));
        }
    }
    BOOST_TEST(first == 0);
    BOOST_TEST(flags == 1);
}

BOOST_AUTO_TEST_CASE(stuck_sensor_is_flagged_once) {
    std::mt19937_64 rng(3);
    Detector d;
    std::int64_t t = kStart;
    for (int i = 0; i < 1000; ++i, t += kStep)
        (void)d.score(t, "a", "humidity",
                      std::round((45.0 + std::normal_distribution<>(0, 0.5)(rng)) * 10) / 10);
    int flags = 0;
    int first = -1;
    for (int i = 0; i < 200; ++i, t += kStep) {
        const Verdict v = d.score(t, "a", "humidity", 44.2);
        if (v.anomaly) {
            ++flags;
            if (first < 0)
                first = i;
            BOOST_TEST(has(v, kStuck));
        }
    }
    BOOST_TEST(flags == 1);
    // stuck_min is 12 readings; with noise sd 0.5 at 0.1 resolution repeats are ~8 %, and
    // ln(1e-6)/ln(0.08) = 5.5, so 12 it is: the 12th identical reading is index 11 (the first of
    // the run is index 0, unless the previous noisy value happened to equal 44.2).
    BOOST_TEST(first >= 10);
    BOOST_TEST(first <= 12);
}

BOOST_AUTO_TEST_CASE(gap_is_flagged_on_the_first_reading_after_it) {
    Detector d;
    std::int64_t t = kStart;
    for (int i = 0; i < 300; ++i, t += kStep) // the gap's tail learns from 96 intervals
        (void)d.score(t, "a", "light", 300 + (i % 3));
    t += 20 * kStep; // 21 intervals without a reading
    const Verdict v = d.score(t, "a", "light", 301);
    BOOST_TEST(has(v, kGap));
    BOOST_TEST(v.anomaly);
}

BOOST_AUTO_TEST_CASE(irregular_sampling_is_not_a_gap) {
    // Exponential inter-arrival times, mean 5 s: a gap needs 5x the upper quartile of recent
    // intervals (about 7 s), i.e. > 35 s, which has probability e^-7 ~ 0.1 % per reading.
    std::mt19937_64 rng(11);
    std::exponential_distribution<double> dt(1.0 / 5000.0);
    Detector d;
    double t = static_cast<double>(kStart);
    int gaps = 0;
    const int n = 2000;
    for (int i = 0; i < n; ++i) {
        t += dt(rng);
        gaps += has(d.score(static_cast<std::int64_t>(t), "a", "light", 300 + i % 5), kGap) ? 1 : 0;
    }
    BOOST_TEST(gaps <= 10); // 2,000 * 0.1 % = 2 expected
}

BOOST_AUTO_TEST_CASE(duplicates_and_out_of_order_readings_do_not_disturb_the_state) {
    std::mt19937_64 rng(5);
    Detector a, b;
    std::int64_t t = kStart;
    std::vector<double> values;
    for (int i = 0; i < 500; ++i)
        values.push_back(room(rng));
    int flags_b = 0;
    for (int i = 0; i < 500; ++i, t += kStep) {
        const Verdict va = a.score(t, "a", "temperature", values[static_cast<std::size_t>(i)]);
        const Verdict vb = b.score(t, "a", "temperature", values[static_cast<std::size_t>(i)]);
        // b also sees each reading twice and an old one again.
        const Verdict dup = b.score(t, "a", "temperature", values[static_cast<std::size_t>(i)]);
        BOOST_TEST(dup.score == vb.score);
        BOOST_TEST(!dup.anomaly);
        if (i > 10)
            flags_b += b.score(t - 10 * kStep, "a", "temperature",
                               values[static_cast<std::size_t>(i - 10)])
                           .anomaly;
        BOOST_TEST(va.score == vb.score);
        BOOST_TEST(va.anomaly == vb.anomaly);
    }
    BOOST_TEST(flags_b == 0);
}

BOOST_AUTO_TEST_CASE(binary_motion_is_not_a_zscore_or_stuck_series) {
    Detector d;
    std::int64_t t = kStart;
    int flags = 0;
    for (int i = 0; i < 3000; ++i, t += kStep)
        flags += d.score(t, "a", "motion", (i / 200) % 2 == 0 ? 0 : 1).anomaly ? 1 : 0;
    BOOST_TEST(flags == 0);
}

BOOST_AUTO_TEST_CASE(reason_names_follow_design_codes) {
    std::vector<std::string> out;
    reason_names(kFlame | kZscore | kIforest, out);
    BOOST_TEST(out.size() == 3U);
    BOOST_TEST(out[0] == "threshold:flame");
    BOOST_TEST(out[1] == "zscore");
    BOOST_TEST(out[2] == "iforest");
}

BOOST_AUTO_TEST_CASE(many_interleaved_series_keep_their_own_state) {
    // 300 series (the lookup index grows several times), several sensors per device and device
    // names that share prefixes: a device on a detector of its own must see exactly what it sees
    // interleaved with all the others (a device, not a series: the joint layer relates a
    // device's sensors).
    std::vector<std::pair<std::string, std::string>> names;
    for (int i = 0; i < 100; ++i) {
        names.emplace_back("node-" + std::to_string(i), "temperature");
        names.emplace_back("node-" + std::to_string(i), "humidity");
        names.emplace_back("node-" + std::to_string(i) + ".a", "gas");
    }
    std::mt19937_64 rng(11);
    std::map<std::string, Detector> alone;
    Detector together;
    int flagged = 0;
    for (int k = 0; k < 200; ++k)
        for (std::size_t s = 0; s < names.size(); ++s) {
            // A spike on a few series late on (past the tails' warm-up), so that verdicts differ.
            const double v = room(rng) + (k == 180 && s % 37 == 0 ? 15.0 : 0.0);
            const auto t = kStart + k * kStep;
            const Verdict a = alone[names[s].first].score(t, names[s].first, names[s].second, v);
            const Verdict b = together.score(t, names[s].first, names[s].second, v);
            BOOST_TEST(a.score == b.score);
            BOOST_TEST(a.anomaly == b.anomaly);
            BOOST_TEST(a.reasons == b.reasons);
            flagged += b.anomaly ? 1 : 0;
        }
    BOOST_TEST(flagged >= 9); // the spikes (s = 0, 37, ..., 296), each seen on its own series
}
