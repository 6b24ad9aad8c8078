// The node's edge noise (firmware/core iotsfw/edge_noise.*), on the host: its discrete Laplace
// against the exact distribution (chi-square), the noise's scale at large N (Kolmogorov-Smirnov at
// significance 0.001: D < 1.949 / sqrt(N)), randomized response's rate, the safety channels
// untouched, and a node with it on: the privacy member on each noised reading, read by the hub's
// parser, and the same split of the day as the hub's lib/iotshield/privacy/edge. Seeds are fixed.
#define BOOST_TEST_MODULE firmware_edge_noise
#include "firmware_fakes.hpp"
#include "iotsfw/edge_noise.hpp"
#include "iotsfw/node.hpp"
#include "iotshield/record/parser.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

using namespace iots;

namespace {
fw::EdgeNoiseConfig per_reading(double each, std::uint64_t n = 1000) {
    fw::EdgeNoiseConfig c;
    c.day_epsilon = each * static_cast<double>(n);
    c.readings_per_day = n;
    return c;
}
} // namespace

BOOST_AUTO_TEST_CASE(discrete_laplace_matches_its_pmf) {
    // s / t = 1 / 2: P(y) = (1 - q) / (1 + q) q^|y|, q = e^-0.5 = 0.60653. Chi-square over
    // y = -8..8 and the two tails, 18 degrees of freedom: below 42.31 at significance 0.001.
    fw::SeededRandom rng(21);
    const int n = 200000;
    std::map<std::int64_t, int> seen;
    for (int i = 0; i < n; ++i)
        ++seen[std::clamp<std::int64_t>(fw::edge_discrete_laplace(rng, 1, 2), -9, 9)];
    const double q = std::exp(-0.5);
    double chi2 = 0;
    for (std::int64_t y = -9; y <= 9; ++y) {
        const double p = std::abs(y) == 9 ? std::pow(q, 9) / (1 + q)
                                          : (1 - q) / (1 + q) * std::pow(q, std::abs(y));
        const double e = n * p;
        chi2 += (seen[y] - e) * (seen[y] - e) / e;
    }
    BOOST_TEST_MESSAGE("chi2 = " << chi2);
    BOOST_TEST(chi2 < 42.31);
}

BOOST_AUTO_TEST_CASE(laplace_noise_has_scale_sensitivity_over_epsilon) {
    // humidity 0..100, epsilon 50 a reading: b = 100 / 50 = 2 (epsilon used as floor(50 * 2^20)
    // / 2^20 = 50 exactly); 50 % is 25 b from either end.
    const fw::EdgeNoise noise(per_reading(50));
    BOOST_TEST(std::fabs(noise.scale(fw::Kind::humidity) - 2) < 2 * 2e-2);
    fw::SeededRandom rng(22);
    std::vector<double> xs;
    const int n = 100000;
    for (int i = 0; i < n; ++i) {
        double v = 50;
        BOOST_TEST_REQUIRE(noise.apply(fw::Kind::humidity, v, rng));
        xs.push_back(v - 50);
    }
    std::sort(xs.begin(), xs.end());
    const double b = noise.scale(fw::Kind::humidity);
    double d = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const double x = xs[i];
        const double f = x < 0 ? 0.5 * std::exp(x / b) : 1 - 0.5 * std::exp(-x / b);
        d = std::max({d, static_cast<double>(i + 1) / n - f, f - static_cast<double>(i) / n});
    }
    BOOST_TEST_MESSAGE("KS D = " << d);
    BOOST_TEST(d < 1.949 / std::sqrt(n));
}

BOOST_AUTO_TEST_CASE(motion_keeps_the_truth_at_the_randomized_response_rate) {
    // epsilon 1: e / (1 + e) = 0.731059; 100,000 readings, 4 standard deviations = 561.
    const fw::EdgeNoise noise(per_reading(1));
    fw::SeededRandom rng(23);
    int kept = 0;
    for (int i = 0; i < 100000; ++i) {
        double v = i % 2;
        BOOST_TEST_REQUIRE(noise.apply(fw::Kind::motion, v, rng));
        kept += v == i % 2 ? 1 : 0;
    }
    BOOST_TEST(std::abs(kept - 73106) < 561);
}

BOOST_AUTO_TEST_CASE(safety_channels_are_never_noised) {
    fw::EdgeNoiseConfig c;
    c.day_epsilon = 1;
    c.readings_per_day = 100000;
    const fw::EdgeNoise noise(c);
    fw::SeededRandom rng(24);
    for (const auto& [kind, value] :
         std::vector<std::pair<fw::Kind, double>>{{fw::Kind::gas, 231.5},
                                                  {fw::Kind::gas, 2500},
                                                  {fw::Kind::flame, 1},
                                                  {fw::Kind::flame, 0},
                                                  {fw::Kind::temperature, 57},
                                                  {fw::Kind::temperature, 88.4}}) {
        double v = value;
        BOOST_TEST(!noise.apply(kind, v, rng));
        BOOST_TEST(v == value);
    }
    for (int i = 0; i < 1000; ++i) {
        double v = 56.9;
        BOOST_TEST_REQUIRE(noise.apply(fw::Kind::temperature, v, rng));
        BOOST_TEST_REQUIRE(v <= 56.0); // noise never reaches the heat level
        BOOST_TEST_REQUIRE(v >= -40.0);
    }
}

BOOST_AUTO_TEST_CASE(the_split_and_the_checks_are_the_hubs) {
    // 3 nodes x 4 kinds x (86,400,000 / 5,000 + 1) = 207,372 readings: 1 / 207,372 each, as
    // iots-sim --dp-epsilon 1 on 3 nodes.
    BOOST_TEST(fw::edge_readings_per_day(5000) == 17281u);
    fw::EdgeNoiseConfig c;
    c.day_epsilon = 1;
    c.readings_per_day = 3 * 4 * fw::edge_readings_per_day(5000);
    BOOST_TEST(fw::EdgeNoise::check(c).empty());
    BOOST_TEST(std::fabs(fw::EdgeNoise(c).reading_epsilon() - 4.8222518e-6) < 1e-12);
    c.temperature.hi = 57;
    BOOST_TEST(!fw::EdgeNoise::check(c).empty());
    c.temperature.hi = 56;
    c.readings_per_day = 4000000000; // 2.5e-10 a reading: under 2^-20
    BOOST_TEST(fw::EdgeNoise::check(c).find("2^-20") != std::string::npos);
    c.day_epsilon = 0;
    BOOST_TEST(!fw::EdgeNoise::check(c).empty());
}

BOOST_AUTO_TEST_CASE(a_node_with_edge_noise_sends_the_privacy_member) {
    fwtest::FakeBoard board;
    board.epoch = 1761410712123;
    fwtest::FakeStore store;
    store.dbl[fw::kR0Key] = 10.0;
    fwtest::FakeTransport transport;
    fw::NodeConfig config;
    config.device = "esp32-kitchen";
    config.mq2_warmup_ms = 0;
    fw::EdgeNoiseConfig ec;
    ec.day_epsilon = 1;
    ec.readings_per_day = 4 * fw::edge_readings_per_day(config.interval_ms);
    const fw::EdgeNoise noise(ec);
    fw::SeededRandom rng(25);
    fw::Node node(config, board, store, transport);
    node.use_edge_noise(noise, rng);
    node.begin();
    node.loop();
    // A change of motion between samples goes out at the next sample only, not at once.
    board.advance(1000);
    board.pir = true;
    node.loop();
    const auto before = transport.sent.size();
    board.advance(config.interval_ms);
    node.loop();
    BOOST_TEST(transport.sent.size() > before);

    record::Parser parser;
    std::map<std::string, int> noised, exact;
    for (const auto& p : transport.sent) {
        if (p.topic.find("/sensors/") == std::string::npos)
            continue;
        record::Reading r;
        BOOST_TEST_REQUIRE(parser.parse(p.payload, r), parser.error() << ": " << p.payload);
        if (r.extra.find("\"privacy\":") != std::string::npos) {
            ++noised[r.sensor];
            BOOST_TEST(r.extra.find("\"day_epsilon\":1") != std::string::npos);
        } else {
            ++exact[r.sensor];
        }
        if (r.sensor == "temperature")
            BOOST_TEST((r.value == -40 || r.value == 56)); // 4.8e-6 a reading: noise only
    }
    BOOST_TEST(noised["temperature"] == 2);
    BOOST_TEST(noised["humidity"] == 2);
    BOOST_TEST(noised["light"] == 2);
    BOOST_TEST(noised["motion"] == 2); // the two samples; the change itself was not sent
    BOOST_TEST(exact["gas"] == 2);
    BOOST_TEST(exact["flame"] == 2);
    BOOST_TEST(noised.count("gas") == 0);
    BOOST_TEST(noised.count("flame") == 0);
}
