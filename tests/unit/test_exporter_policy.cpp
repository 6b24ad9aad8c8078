// The privacy policy file: a good one loads, and every wrong key is named (exit 78).
#define BOOST_TEST_MODULE exporter_policy
#include "iotshield/core/error.hpp"
#include "iotshield/exporter/policy.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace iots;

namespace {
const char* kGood = R"({
  "window": "1h",
  "budget": {"epsilon_per_day": 10, "delta_per_day": 1e-5},
  "sensors": {
    "temperature": {"release": "mean", "range": [10, 35], "epsilon": 0.1},
    "humidity": {"release": "mean", "range": [20, 90], "epsilon": 0.2, "mechanism": "gaussian",
                 "delta": 1e-7, "min_max": true},
    "motion": {"release": "count", "max_count": 720, "epsilon": 0.1},
    "flame": {"release": "any", "epsilon": 1}
  },
  "devices": ["esp32-kitchen"]
})";

// The message of the Error(config) that parsing text throws ("" if it does not).
std::string error_of(const std::string& text) {
    try {
        (void)exporter::parse_policy(text, "p.json");
    } catch (const Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == 78);
        return e.what();
    }
    return "";
}

std::string with(const std::string& from, const std::string& to) {
    std::string s = kGood;
    const auto at = s.find(from);
    BOOST_REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}
} // namespace

BOOST_AUTO_TEST_CASE(a_good_policy_loads) {
    const exporter::Policy p = exporter::parse_policy(kGood, "p.json");
    BOOST_TEST(p.window_ms == 3600000);
    BOOST_TEST(p.budget.epsilon == 10.0);
    BOOST_TEST(p.sensors.size() == 4u);
    const auto* h = p.find("humidity");
    BOOST_REQUIRE(h != nullptr);
    BOOST_TEST((h->mech == privacy::Mech::gaussian));
    // mean, min and max at 0.2 each: 0.6 per window (basic composition), delta 3e-7.
    BOOST_TEST(std::abs(h->cost_per_window().epsilon - 0.6) < 1e-12);
    BOOST_TEST(std::abs(h->cost_per_window().delta - 3e-7) < 1e-18);
    BOOST_TEST(p.find("motion")->max_count == 720);
    BOOST_TEST(p.find("gas") == nullptr); // not declared: never exported
    BOOST_TEST(p.devices.size() == 1u);
}

BOOST_AUTO_TEST_CASE(every_wrong_key_is_named) {
    BOOST_TEST(error_of("{") ==
               "p.json:1:2: not JSON: unexpected end of input; expected string literal");
    BOOST_TEST(error_of(with(R"("window": "1h")", R"("window": "7m")")) ==
               "p.json: window: '7m' is not a duration that divides a day (1h, 15min, 1d)");
    BOOST_TEST(error_of(with(R"("epsilon_per_day": 10)", R"("epsilon_per_dya": 10)")) ==
               "p.json: budget.epsilon_per_dya: unknown key");
    BOOST_TEST(error_of(with(R"("range": [10, 35], )", "")) ==
               "p.json: sensors.temperature.range: missing");
    BOOST_TEST(error_of(with("[10, 35]", "[35, 10]")) ==
               "p.json: sensors.temperature.range: lo is not below hi");
    BOOST_TEST(error_of(with(R"("epsilon": 0.1})", R"("epsilon": -1})")) ==
               "p.json: sensors.temperature.epsilon: must be above 0 and at most 64");
    BOOST_TEST(error_of(with(R"("release": "count")", R"("release": "median")")) ==
               "p.json: sensors.motion.release: 'median' is not mean, count or any");
    BOOST_TEST(error_of(with(R"("max_count": 720)", R"("max_count": 0)")) ==
               "p.json: sensors.motion.max_count: not a whole number from 1 to 100000000");
    BOOST_TEST(error_of(with(R"("delta": 1e-7, )", "")) ==
               "p.json: sensors.humidity.delta: missing");
    BOOST_TEST(error_of(with(R"("mechanism": "gaussian")", R"("mechanism": "cauchy")")) ==
               "p.json: sensors.humidity.mechanism: 'cauchy' is not laplace or gaussian");
    BOOST_TEST(error_of(with(R"("epsilon": 1})", R"("epsilon": 1, "range": [0, 1]})")) ==
               "p.json: sensors.flame.range: only for release mean");
    BOOST_TEST(error_of(with(R"(, "delta_per_day": 1e-5)", "")) ==
               "p.json: budget.delta_per_day: missing, and sensors.humidity uses gaussian");
    BOOST_TEST(error_of(with(R"("budget")", R"("budgets")")) == "p.json: budgets: unknown key");
}

// A file that is not JSON: the file, line and column, and what is wrong, in words (not
// nlohmann's exception text: no "[json.exception", no "parse error at"); a number no double holds
// is refused with the file's name too.
BOOST_AUTO_TEST_CASE(a_file_that_is_not_json_names_the_place) {
    BOOST_TEST(error_of("{\n  \"window\": 1h\n}") ==
               "p.json:2:14: not JSON: invalid literal; last read: '1h'; expected '}'");
    BOOST_TEST(error_of("") == "p.json:1:1: not JSON: unexpected end of input; expected '[', '{', "
                               "or a literal");
    BOOST_TEST(error_of(with("10, 35", "10, 1e999")) ==
               "p.json: not JSON: number overflow parsing '1e999'");
    const std::string bad = error_of("{\"\x1b[2J\": 1}");
    BOOST_TEST(bad.find('\x1b') == std::string::npos, bad);
    BOOST_TEST(bad.rfind("p.json:", 0) == 0u, bad);
    BOOST_TEST(error_of(R"({"budget": {"epsilon_per_day": 1}, "sensors": {"\u001b[2J": 1}})")
                   .find('\x1b') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_exit_66) {
    try {
        (void)exporter::load_policy("/nonexistent/policy.json");
        BOOST_FAIL("no error");
    } catch (const Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == 66);
        BOOST_TEST(std::string(e.what()) ==
                   "--policy /nonexistent/policy.json: cannot read: No such file or directory");
    }
}
