// Same options -> the same bytes; another seed -> other bytes; one part of the model drawing more
// numbers (an incident) never shifts what another part draws.
#define BOOST_TEST_MODULE sim_determinism
#include "sim_test_util.hpp"

#include "iotshield/sim/rng.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <map>

using namespace sim_test;
using iots::sim::Rng;

BOOST_AUTO_TEST_CASE(xoshiro_and_splitmix_match_the_reference_code) {
    // Vigna's reference xoshiro256starstar.c from state {1, 2, 3, 4}: the first output is
    // rotl(2 * 5, 7) * 9 = 11520; the next three were taken from an independent implementation.
    Rng r = Rng::from_state(1, 2, 3, 4);
    BOOST_TEST(r.next() == 11520u);
    BOOST_TEST(r.next() == 0u);
    BOOST_TEST(r.next() == 1509978240u);
    BOOST_TEST(r.next() == 1215971899390074240u);
    // splitmix64.c's first output for x = 0.
    BOOST_TEST(iots::sim::splitmix64(0) == 0xE220A8397B1DCDAFULL);
}

BOOST_AUTO_TEST_CASE(uniform_and_normal_have_the_right_moments) {
    // 200,000 draws: the standard error of the mean of N(0,1) is 1/sqrt(2e5) = 0.0022 and of the
    // mean square sqrt(2/2e5) = 0.0032; the bounds are about 5 standard errors.
    Rng r(7);
    double sum = 0, sum2 = 0, usum = 0;
    for (int i = 0; i < 200000; ++i) {
        const double u = r.uniform();
        BOOST_REQUIRE(u >= 0.0 && u < 1.0);
        usum += u;
        const double n = r.normal();
        sum += n;
        sum2 += n * n;
    }
    BOOST_TEST(std::abs(usum / 200000 - 0.5) < 0.004); // sd of U mean: 0.289/447 = 0.00065
    BOOST_TEST(std::abs(sum / 200000) < 0.012);
    BOOST_TEST(std::abs(sum2 / 200000 - 1) < 0.016);
}

BOOST_AUTO_TEST_CASE(same_options_give_the_same_bytes) {
    auto c = config();
    c.incidents_per_day = 4;
    c.incidents.push_back(iots::sim::parse_incident("fire@10m"));
    const auto a = simulate_json(c, 20000);
    const auto b = simulate_json(c, 20000);
    BOOST_TEST(a.size() > 20000u * 100);
    BOOST_TEST((a == b));
}

BOOST_AUTO_TEST_CASE(another_seed_gives_other_bytes) {
    auto c = config();
    const auto a = simulate_json(c, 6000);
    c.seed = 2;
    const auto b = simulate_json(c, 6000);
    BOOST_TEST((a != b));
}

BOOST_AUTO_TEST_CASE(an_incident_on_one_node_leaves_the_others_unchanged) {
    auto c = config();
    const auto base = simulate(c, 2 * kHour);
    c.incidents.push_back(iots::sim::parse_incident("fire@30m/esp32-kitchen"));
    const auto with = simulate(c, 2 * kHour);
    BOOST_REQUIRE_EQUAL(base.size(), with.size());
    std::size_t changed_kitchen = 0;
    for (std::size_t i = 0; i < base.size(); ++i) {
        BOOST_REQUIRE_EQUAL(base[i].device, with[i].device);
        if (base[i].device != "esp32-kitchen")
            BOOST_REQUIRE_EQUAL(base[i].value, with[i].value);
        else if (base[i].value != with[i].value)
            ++changed_kitchen;
    }
    BOOST_TEST(changed_kitchen > 100u);
}

BOOST_AUTO_TEST_CASE(timestamps_in_order_and_seq_contiguous_per_node) {
    const auto rows = simulate(config(), 6 * kHour);
    std::map<std::string, std::int64_t> next_seq;
    Millis last = 0;
    for (const auto& r : rows) {
        BOOST_REQUIRE(r.ts >= last);
        last = r.ts;
        BOOST_REQUIRE_EQUAL(r.seq, next_seq[r.device]++);
    }
    // 6 h at 5 s: 4320 steps x 3 nodes x 6 sensors.
    BOOST_TEST(rows.size() == 4320u * 3 * 6);
}
