#define BOOST_TEST_MODULE privacy_edge
// Edge noise (privacy/edge.*): the day's budget split over the home's readings, the noise of each
// reading against its target distribution (Kolmogorov-Smirnov at significance 0.001:
// D < 1.949 / sqrt(N)), randomized response's rate, the safety channels untouched, the "privacy"
// member and its way through the record parser, and the option errors. Seeds are fixed.
#include "iotshield/core/error.hpp"
#include "iotshield/privacy/calibrate.hpp"
#include "iotshield/privacy/edge.hpp"
#include "iotshield/privacy/random.hpp"
#include "iotshield/record/parser.hpp"
#include "iotshield/record/serialize.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

using namespace iots;
using namespace iots::privacy;

namespace {
double ks(std::vector<double> xs, const std::function<double(double)>& cdf) {
    std::sort(xs.begin(), xs.end());
    const auto n = static_cast<double>(xs.size());
    double d = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const double f = cdf(xs[i]);
        d = std::max({d, static_cast<double>(i + 1) / n - f, f - static_cast<double>(i) / n});
    }
    return d;
}

record::Reading reading(std::string sensor, double value) {
    record::Reading r;
    r.ts = 1759708800000;
    r.device = "esp32-kitchen";
    r.sensor = std::move(sensor);
    r.value = value;
    r.seq = 4;
    return r;
}

// A home whose readings each get epsilon `each`: readings_per_day readings share day_epsilon.
EdgeOptions per_reading(double each, std::int64_t n = 1000) {
    EdgeOptions o;
    o.day_epsilon = each * static_cast<double>(n);
    o.readings_per_day = n;
    return o;
}

std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        BOOST_TEST((e.code() == Exit::usage));
        return e.what();
    }
    return "(no error)";
}
} // namespace

BOOST_AUTO_TEST_CASE(readings_per_day_rounds_up_and_adds_one) {
    // 86,400,000 ms / 5,000 ms = 17,280 readings, one more for a jittered reading: 17,281.
    BOOST_TEST(readings_per_day(5000) == 17281);
    // 86,400,000 / 7,000 = 12,342.86: 12,343 and one more.
    BOOST_TEST(readings_per_day(7000) == 12344);
}

BOOST_AUTO_TEST_CASE(the_day_is_split_evenly_over_the_readings) {
    // 3 nodes x 4 kinds x 17,281 readings = 207,372; epsilon 1 a day: 1 / 207,372 = 4.822e-6
    // each; the Gaussian's delta 1e-6 likewise: 4.822e-12.
    EdgeOptions o;
    o.day_epsilon = 1;
    o.readings_per_day = 3 * 4 * readings_per_day(5000);
    const EdgeNoise laplace(o);
    BOOST_TEST(std::fabs(laplace.reading_epsilon() - 4.8222518e-6) < 1e-12);
    BOOST_TEST(laplace.reading_delta() == 0.0);
    // Laplace b = sensitivity / epsilon: humidity's range 0..100, 100 / 4.822e-6 = 2.07e7.
    BOOST_TEST(std::fabs(laplace.scale_of("humidity") / 2.0737e7 - 1) < 2e-2);
}

BOOST_AUTO_TEST_CASE(laplace_noise_has_scale_sensitivity_over_epsilon) {
    // humidity clamped to 0..100 (sensitivity 100), epsilon 50 a reading: b = 100 / 50 = 2. A
    // value of 50 is 25 b from either end, so the clamp after the noise touches 1 in e^25.
    const EdgeNoise noise(per_reading(50));
    BOOST_TEST(std::fabs(noise.scale_of("humidity") - 2) < 2 * 2e-2);
    SeededRandom rng(11);
    std::vector<double> xs;
    const int n = 100000;
    for (int i = 0; i < n; ++i) {
        auto r = reading("humidity", 50);
        BOOST_TEST_REQUIRE(noise.apply(r, rng));
        xs.push_back(r.value - 50);
    }
    const double b = noise.scale_of("humidity");
    const double d = ks(
        xs, [b](double x) { return x < 0 ? 0.5 * std::exp(x / b) : 1 - 0.5 * std::exp(-x / b); });
    BOOST_TEST_MESSAGE("KS D = " << d);
    BOOST_TEST(d < 1.949 / std::sqrt(n));
}

BOOST_AUTO_TEST_CASE(gaussian_noise_is_normal_of_the_analytic_sigma) {
    // temperature clamped to 10..20 (sensitivity 10), epsilon 40 and delta 1e-8 a reading: sigma
    // at least the analytic calibration's (Balle and Wang), at most 2% above it (the grid). The
    // clamp's ends are within reach of a Gaussian of the whole range's order, so the values
    // strictly inside follow the normal truncated to (-5, 5) and the ends hold the rest.
    auto o = per_reading(40);
    o.mech = Mech::gaussian;
    o.day_delta = 1e-8 * 1000;
    o.clamps.push_back(parse_edge_clamp("temperature=10:20"));
    const EdgeNoise noise(o);
    BOOST_TEST(std::fabs(noise.reading_delta() - 1e-8) < 1e-20);
    const double sigma = noise.scale_of("temperature");
    const double analytic = gaussian_sigma_analytic(10, 40, 1e-8);
    BOOST_TEST(sigma >= analytic * (1 - 1e-3));
    BOOST_TEST(sigma <= analytic * 1.02);
    const auto phi = [sigma](double x) { return 0.5 * std::erfc(-x / (sigma * std::sqrt(2.0))); };
    SeededRandom rng(12);
    std::vector<double> inside;
    int ends = 0;
    const int n = 100000;
    for (int i = 0; i < n; ++i) {
        auto r = reading("temperature", 15);
        BOOST_TEST_REQUIRE(noise.apply(r, rng));
        BOOST_TEST_REQUIRE(r.value >= 10.0);
        BOOST_TEST_REQUIRE(r.value <= 20.0);
        if (r.value == 10.0 || r.value == 20.0)
            ++ends;
        else
            inside.push_back(r.value - 15);
    }
    const double mass = phi(5) - phi(-5);
    const double d = ks(inside, [&](double x) { return (phi(x) - phi(-5)) / mass; });
    BOOST_TEST_MESSAGE("KS D = " << d << ", sigma " << sigma << ", at the ends " << ends);
    BOOST_TEST(d < 1.949 / std::sqrt(static_cast<double>(inside.size())));
    // The ends: n (1 - mass) expected, binomial, within 4 standard deviations.
    const double expected = n * (1 - mass);
    BOOST_TEST(std::fabs(ends - expected) < 4 * std::sqrt(expected * mass) + 1);
}

BOOST_AUTO_TEST_CASE(motion_goes_through_randomized_response) {
    // epsilon 1 a reading: the true bit with probability e / (1 + e) = 0.731059; over 100,000
    // readings the count's standard deviation is sqrt(1e5 * 0.731 * 0.269) = 140, and 4 of them
    // is 561.
    const EdgeNoise noise(per_reading(1));
    SeededRandom rng(13);
    int kept = 0;
    const int n = 100000;
    for (int i = 0; i < n; ++i) {
        auto r = reading("motion", i % 2);
        BOOST_TEST_REQUIRE(noise.apply(r, rng));
        BOOST_TEST_REQUIRE((r.value == 0 || r.value == 1));
        kept += r.value == i % 2 ? 1 : 0;
    }
    BOOST_TEST(std::abs(kept - 73106) < 561);
}

BOOST_AUTO_TEST_CASE(safety_channels_are_never_noised) {
    // At a tiny epsilon every noised value lands on a clamp's end; gas, flame and a temperature at
    // or above 57 C must come out exactly as they went in, with no privacy member.
    EdgeOptions o;
    o.day_epsilon = 1;
    o.readings_per_day = 100000;
    const EdgeNoise noise(o);
    SeededRandom rng(14);
    for (const auto& [sensor, value] :
         std::vector<std::pair<std::string, double>>{{"gas", 223.4},
                                                     {"gas", 1600},
                                                     {"flame", 1},
                                                     {"flame", 0},
                                                     {"temperature", 57},
                                                     {"temperature", 91.25},
                                                     {"co2", 650}}) {
        for (int i = 0; i < 100; ++i) {
            auto r = reading(sensor, value);
            const auto before = r;
            BOOST_TEST(!noise.apply(r, rng));
            BOOST_TEST((r == before));
        }
    }
    // A noised temperature never reaches the heat level: the hub's heat alarm (at 57 C) cannot
    // fire on noise. 56.99 C is noised, and stays at or below 56.
    int top = 0;
    for (int i = 0; i < 1000; ++i) {
        auto r = reading("temperature", 56.99);
        BOOST_TEST_REQUIRE(noise.apply(r, rng));
        BOOST_TEST_REQUIRE(r.value <= 56.0);
        BOOST_TEST_REQUIRE(r.value >= -40.0);
        top += r.value == 56.0 ? 1 : 0;
    }
    BOOST_TEST(top > 400); // about half land on the top of the clamp
}

BOOST_AUTO_TEST_CASE(privacy_member_states_the_cost_and_passes_the_parser) {
    // 1 a day over 207,372 readings: 4.822e-6 each, shown in full; light's whole range 0..100,000
    // is its sensitivity.
    EdgeOptions o;
    o.day_epsilon = 1;
    o.readings_per_day = 207372;
    const EdgeNoise noise(o);
    SeededRandom rng(15);
    auto r = reading("light", 420);
    BOOST_TEST_REQUIRE(noise.apply(r, rng));
    BOOST_TEST(r.extra == R"("privacy":{"mech":"laplace","epsilon":4.8222517986999205e-06,)"
                          R"("sensitivity":1e+05,"clamp":[0,1e+05],"day_epsilon":1})");
    // The record parser accepts the member and passes it through unchanged (DESIGN §2: unknown
    // members pass), so iots-ingest and iots-detect take edge-noised readings.
    const std::string line = record::to_json(r);
    record::Parser parser;
    record::Reading back;
    BOOST_TEST_REQUIRE(parser.parse(line, back), parser.error());
    BOOST_TEST(back.extra == r.extra);
    BOOST_TEST(record::to_json(back) == line);
    BOOST_TEST((back.value == 0 || back.value == 100000));

    // Gaussian: the delta of the reading and of the day too.
    o.mech = Mech::gaussian;
    o.day_epsilon = 40 * 1000.0;
    o.day_delta = 1e-5;
    o.readings_per_day = 1000;
    const EdgeNoise g(o);
    auto h = reading("humidity", 40);
    BOOST_TEST_REQUIRE(g.apply(h, rng));
    BOOST_TEST(h.extra == R"("privacy":{"mech":"gaussian","epsilon":40,"delta":1e-08,)"
                          R"("sensitivity":100,"clamp":[0,100],"day_epsilon":40000,)"
                          R"("day_delta":1e-05})");
    BOOST_TEST_REQUIRE(parser.parse(record::to_json(h), back), parser.error());
}

BOOST_AUTO_TEST_CASE(option_errors_name_what_is_wrong) {
    // 0.1 a day over 1,000 nodes x 4 kinds x 86,401 readings (1 s): 2.9e-10 each, under 2^-20.
    EdgeOptions o;
    o.day_epsilon = 0.1;
    o.readings_per_day = 1000 * 4 * readings_per_day(1000);
    BOOST_TEST(message_of([&] { EdgeNoise n(o); }).find("below the samplers' smallest") !=
               std::string::npos);
    o.day_epsilon = 0;
    BOOST_TEST(message_of([&] { EdgeNoise n(o); }).find("--dp-epsilon") != std::string::npos);
    // The Gaussian at 4.8e-6 a reading would need sigma 1.4e6 times the range.
    o.day_epsilon = 1;
    o.readings_per_day = 207372;
    o.mech = Mech::gaussian;
    o.day_delta = 1e-6;
    BOOST_TEST(message_of([&] { EdgeNoise n(o); }).find("use Laplace") != std::string::npos);
    o.day_delta = 0;
    BOOST_TEST(message_of([&] { EdgeNoise n(o); }).find("--dp-delta") != std::string::npos);

    BOOST_TEST(message_of([] { (void)parse_edge_clamp("gas=0:100"); }).find("safety") !=
               std::string::npos);
    BOOST_TEST(message_of([] {
                   (void)parse_edge_clamp("temperature=10:60");
               }).find("below the heat level") != std::string::npos);
    BOOST_TEST(message_of([] { (void)parse_edge_clamp("humidity=50:20"); }).find("LO must be") !=
               std::string::npos);
    BOOST_TEST(message_of([] { (void)parse_edge_clamp("humidity"); }).find("KIND=LO:HI") !=
               std::string::npos);
    BOOST_TEST(message_of([] { (void)parse_edge_clamp("humidity=a:b"); }).find("numbers") !=
               std::string::npos);
    BOOST_TEST(message_of([] { (void)parse_edge_clamp("motion=0:1"); }).find("motion") !=
               std::string::npos);
    const auto [kind, range] = parse_edge_clamp("light=0:2000");
    BOOST_TEST(kind == "light");
    BOOST_TEST(range.lo == 0.0);
    BOOST_TEST(range.hi == 2000.0);
}
