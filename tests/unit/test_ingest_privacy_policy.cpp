// iots-ingest's privacy policy: the file's rules, its refusals (each naming the line), and what a
// rule does to a reading.
#define BOOST_TEST_MODULE ingest_privacy_policy
#include "iotshield/core/error.hpp"
#include "iotshield/ingest/privacy_policy.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <string>

using iots::Error;
using iots::Exit;
using iots::ingest::PrivacyPolicy;
using iots::ingest::round_to;

namespace {

iots::record::Reading reading(std::string sensor, double value, iots::core::Millis ts) {
    iots::record::Reading r;
    r.device = "node1";
    r.sensor = std::move(sensor);
    r.value = value;
    r.ts = ts;
    return r;
}

std::string refusal(const std::string& text) {
    try {
        (void)PrivacyPolicy::parse(text, "p");
    } catch (const Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(Exit::config));
        return e.what();
    }
    return "";
}

} // namespace

BOOST_AUTO_TEST_CASE(rules_keep_drop_round_and_floor_the_time) {
    const auto p = PrivacyPolicy::parse("# a home's policy\n"
                                        "light drop\n"
                                        "motion   keep   # as it is\n"
                                        "humidity round 5\n"
                                        "temperature round 0.5 time 5m\n"
                                        "* time 1h\n",
                                        "p");
    // 2025-10-25T16:47:12.345Z = 1761410832345 ms.
    const iots::core::Millis t = 1761410832345;
    auto light = reading("light", 312, t);
    BOOST_TEST(!p.apply(light));
    auto motion = reading("motion", 1, t);
    BOOST_TEST(p.apply(motion));
    BOOST_TEST(motion.value == 1.0);
    BOOST_TEST(motion.ts == t);
    auto humidity = reading("humidity", 47.4, t);
    BOOST_TEST(p.apply(humidity));
    BOOST_TEST(humidity.value == 45.0); // 9.48 fives -> 9
    BOOST_TEST(humidity.ts == t);
    auto temperature = reading("temperature", 21.76, t);
    BOOST_TEST(p.apply(temperature));
    BOOST_TEST(temperature.value == 22.0); // 43.52 halves -> 44
    // 16:47:12.345 floored to 5 minutes: 16:45:00.000 = t - 2 min 12.345 s = t - 132345.
    BOOST_TEST(temperature.ts == t - 132345);
    // Any other kind: "*", the hour: 16:00:00.000 = t - 47 min 12.345 s = t - 2832345.
    auto co2 = reading("co2", 812, t);
    BOOST_TEST(p.apply(co2));
    BOOST_TEST(co2.value == 812.0);
    BOOST_TEST(co2.ts == t - 2832345);
}

BOOST_AUTO_TEST_CASE(star_never_reaches_a_safety_signal) {
    const auto p = PrivacyPolicy::parse("* round 100 time 1h\n", "p");
    for (const char* kind : {"flame", "gas", "temperature"}) {
        auto r = reading(kind, 1612.5, 1761410832345);
        BOOST_TEST(p.apply(r));
        BOOST_TEST(r.value == 1612.5);
        BOOST_TEST(r.ts == 1761410832345);
    }
    const auto drop_all = PrivacyPolicy::parse("* drop\n", "p");
    auto gas = reading("gas", 80, 1761410832345);
    BOOST_TEST(drop_all.apply(gas));
    auto light = reading("light", 80, 1761410832345);
    BOOST_TEST(!drop_all.apply(light));
    BOOST_TEST(PrivacyPolicy{}.empty());
}

BOOST_AUTO_TEST_CASE(a_decimal_step_gives_the_decimal_value) {
    BOOST_TEST(nlohmann::json(round_to(21.34, 0.1)).dump() == "21.3");
    BOOST_TEST(nlohmann::json(round_to(0.0347, 0.01)).dump() == "0.03");
    BOOST_TEST(round_to(1612.5, 50) == 1600.0);
    BOOST_TEST(round_to(-3.6, 1) == -4.0);
    BOOST_TEST(round_to(7.3, 0.25) == 7.25);
}

BOOST_AUTO_TEST_CASE(a_time_before_1970_is_floored_too) {
    const auto p = PrivacyPolicy::parse("humidity time 1m\n", "p");
    auto r = reading("humidity", 40, -1500); // 1.5 s before the epoch: floored to -60000
    BOOST_TEST(p.apply(r));
    BOOST_TEST(r.ts == -60000);
}

BOOST_AUTO_TEST_CASE(bad_rules_are_refused_naming_the_line) {
    BOOST_TEST(refusal("light drop\ngas round 50\n") ==
               "p:2: gas is a safety signal: it is kept as it is (keep)");
    BOOST_TEST(refusal("flame drop\n") ==
               "p:1: flame is a safety signal: it is kept as it is (keep)");
    BOOST_TEST(refusal("gas time 5m\n") ==
               "p:1: gas is a safety signal: it is kept as it is (keep)");
    BOOST_TEST(refusal("temperature drop\n") ==
               "p:1: temperature: heat is a safety signal: it may be rounded, not dropped");
    BOOST_TEST(refusal("light\n") ==
               "p:1: light: no action (keep, drop, round STEP, time DURATION)");
    BOOST_TEST(refusal("light blur\n") ==
               "p:1: unknown action 'blur' (keep, drop, round STEP, time DURATION)");
    BOOST_TEST(refusal("light round\n") == "p:1: round needs a step");
    BOOST_TEST(refusal("light round -1\n") == "p:1: round: '-1' is not a positive number");
    BOOST_TEST(refusal("light round 0\n") == "p:1: round: '0' is not a positive number");
    BOOST_TEST(refusal("light round 5 round 10\n") == "p:1: round given twice");
    BOOST_TEST(refusal("light time 7m\n") ==
               "p:1: time: '7m' is not a duration that divides a day (like 1m, 5m, 15m, 1h)");
    BOOST_TEST(refusal("light drop round 5\n") == "p:1: drop stands alone on its line");
    BOOST_TEST(refusal("light drop\nlight keep\n") == "p:2: a second rule for light");
    BOOST_TEST(refusal("li/ght drop\n") ==
               "p:1: 'li/ght' is not a sensor kind (A-Z a-z 0-9 _ . -) or *");
    BOOST_TEST(refusal("\n# only comments\n\n") == ""); // an empty policy keeps everything
}
