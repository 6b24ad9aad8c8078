// The rules file of iots-act: what it accepts, and every refusal with its line number and exit 78.
#define BOOST_TEST_MODULE act_rules
#include "iotshield/act/rules.hpp"
#include "iotshield/core/error.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>
#include <vector>

using namespace iots;
using namespace iots::act;

namespace {

// The message of the refusal, which must be a config error (exit 78).
std::string refusal(const std::string& text) {
    try {
        (void)parse_rules(text, "home.rules");
    } catch (const Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == 78);
        return e.what();
    }
    return "(accepted)";
}

} // namespace

BOOST_AUTO_TEST_CASE(a_full_rule_and_its_defaults) {
    const auto rules = parse_rules(
        "# the kitchen\n"
        "\n"
        "when gas-leak >= HIGH in kitchen do esp32-kitchen valve close confirm 3s retries 1 "
        "cooldown 1m max 4/1h   # shut the gas\n"
        "when gas-leak on esp32-kitchen do esp32-kitchen fan on then off after 5m\n"
        "when intrusion >= medium do esp32-hall buzzer on between 22:00 and 06:00 if empty 30m\n",
        "home.rules");
    BOOST_REQUIRE_EQUAL(rules.size(), 3u);
    const Rule& v = rules[0];
    BOOST_TEST(v.line == 3);
    BOOST_TEST(v.where == "home.rules:3");
    BOOST_TEST(v.kind == "gas-leak");
    BOOST_TEST(v.min_severity == 2);
    BOOST_TEST((v.scope == Rule::Scope::room));
    BOOST_TEST(v.scope_name == "kitchen");
    BOOST_TEST(v.device == "esp32-kitchen");
    BOOST_TEST(v.actuator == "valve");
    BOOST_TEST(v.action == "close");
    BOOST_TEST(v.confirm_ms == 3000);
    BOOST_TEST(v.retries == 1);
    BOOST_TEST(v.cooldown_ms == 60000);
    BOOST_TEST(v.max_count == 4);
    BOOST_TEST(v.max_window_ms == 3600000);
    const Rule& f = rules[1];
    BOOST_TEST(f.min_severity == 0); // LOW: any severity
    BOOST_TEST((f.scope == Rule::Scope::device));
    BOOST_TEST(f.confirm_ms == 5000); // the defaults
    BOOST_TEST(f.retries == 2);
    BOOST_TEST(f.cooldown_ms == 0);
    BOOST_TEST(f.max_count == 0);
    BOOST_TEST(f.then_action == "off");
    BOOST_TEST(f.then_delay_ms == 300000);
    const Rule& b = rules[2];
    BOOST_REQUIRE(b.window.has_value());
    BOOST_TEST(b.window->start_min == 22 * 60);
    BOOST_TEST(b.window->end_min == 6 * 60);
    BOOST_TEST(b.empty_ms == 1800000);
    BOOST_TEST(b.min_severity == 1);
}

BOOST_AUTO_TEST_CASE(windows_across_midnight) {
    const Window night{22 * 60, 6 * 60};
    BOOST_TEST(night.contains(23 * 60));
    BOOST_TEST(night.contains(0));
    BOOST_TEST(night.contains(5 * 60 + 59));
    BOOST_TEST(!night.contains(6 * 60));
    BOOST_TEST(!night.contains(12 * 60));
    BOOST_TEST(night.contains(22 * 60));
    const Window day{8 * 60, 18 * 60};
    BOOST_TEST(day.contains(8 * 60));
    BOOST_TEST(!day.contains(18 * 60));
    BOOST_TEST(!day.contains(2 * 60));
}

BOOST_AUTO_TEST_CASE(kinds_and_groups) {
    BOOST_TEST(kind_matches("any", "sensor-fault"));
    BOOST_TEST(kind_matches("hvac-failure", "heat"));
    BOOST_TEST(kind_matches("hvac-failure", "cold"));
    BOOST_TEST(kind_matches("hvac-failure", "humidity"));
    BOOST_TEST(!kind_matches("hvac-failure", "fire"));
    BOOST_TEST(kind_matches("gas-leak", "gas-leak"));
    BOOST_TEST(!kind_matches("gas-leak", "fire"));
}

// Every refusal names the file and the line of the rule at fault.
BOOST_AUTO_TEST_CASE(every_refusal_names_its_line) {
    const std::string ok = "when fire do esp32-kitchen buzzer on\n";
    const std::vector<std::pair<std::string, std::string>> cases{
        // the interlocks
        {ok + "when gas-leak do esp32-kitchen valve open\n",
         "home.rules:2: refused: a rule may never open a gas valve (valve open)"},
        {ok + "\nwhen any do esp32-kitchen valve toggle\n",
         "home.rules:3: refused: a rule may never open a gas valve (valve toggle)"},
        {"# x\nwhen fire do esp32-kitchen buzzer off\n",
         "home.rules:2: refused: a rule may never switch off a buzzer or an alarm (buzzer off)"},
        {"when fire do esp32-hall alarm toggle\n",
         "home.rules:1: refused: a rule may never switch off a buzzer or an alarm"},
        {"when intrusion do esp32-hall door unlock\n",
         "home.rules:1: refused: a rule may never unlock or open a door (door unlock)"},
        {"when fire do esp32-hall door open\n",
         "home.rules:1: refused: a rule may never unlock or open a door (door open)"},
        {"when gas-leak do esp32-kitchen valve close then open after 10m\n",
         "home.rules:1: refused: a rule may never open a gas valve (valve open)"},
        {"when fire do esp32-kitchen buzzer on then off\n",
         "home.rules:1: refused: a rule may never switch off a buzzer"},
        // conflicts: opposite actions for one actuator on one event
        {"when gas-leak in kitchen do esp32-kitchen fan on\n"
         "when any do esp32-kitchen fan off\n",
         "home.rules:2: conflicts with line 1: esp32-kitchen fan off here and on there"},
        {"when hvac-failure do esp32-hall relay on\n\nwhen heat >= HIGH do esp32-hall relay off\n",
         "home.rules:3: conflicts with line 1"},
        {"when fire on esp32-a do esp32-kitchen fan on\nwhen fire in kitchen do esp32-kitchen "
         "fan off\n",
         "home.rules:2: conflicts with line 1"},
        // the grammar
        {ok + "gas-leak do esp32-kitchen fan on\n", "home.rules:2: a rule starts with 'when KIND'"},
        {"when smoke do esp32-kitchen fan on\n", "home.rules:1: unknown incident kind 'smoke'"},
        {"when fire >= SEVERE do esp32-kitchen fan on\n",
         "home.rules:1: unknown severity 'SEVERE'"},
        {"when fire >=\n", "home.rules:1: missing a severity after '>=' at the end of the line"},
        {"when fire in kitchen\n", "home.rules:1: missing 'do DEVICE ACTUATOR ACTION'"},
        {"when fire in kitchen please do x fan on\n",
         "home.rules:1: expected 'do DEVICE ACTUATOR ACTION', not 'please'"},
        {"when fire on bad/device do esp32-kitchen fan on\n",
         "home.rules:1: the device after 'on': 'bad/device' is not a name"},
        {"when fire do esp32-kitchen\n",
         "home.rules:1: missing the actuator after 'do DEVICE' at the end of the line"},
        {"when fire do esp32-kitchen fan\n",
         "home.rules:1: missing the action after 'do DEVICE ACTUATOR'"},
        {"when fire do esp32-kitchen laser on\n", "home.rules:1: unknown actuator 'laser'"},
        {"when fire do esp32-kitchen fan close\n",
         "home.rules:1: a fan takes on, off or toggle, not 'close'"},
        {"when fire do esp32-kitchen fan on confirm soon\n",
         "home.rules:1: confirm: 'soon' is not a duration"},
        {"when fire do esp32-kitchen fan on confirm 0s\n",
         "home.rules:1: confirm: the time to wait for an answer must be above zero"},
        {"when fire do esp32-kitchen fan on retries 11\n",
         "home.rules:1: retries: '11' is not a number from 0 to 10"},
        {"when fire do esp32-kitchen fan on max 4\n",
         "home.rules:1: max: '4' is not a count per duration"},
        {"when fire do esp32-kitchen fan on max 0/1h\n", "home.rules:1: max: '0/1h'"},
        {"when fire do esp32-kitchen fan on between 22:00 06:00\n",
         "home.rules:1: between: write 'between HH:MM and HH:MM'"},
        {"when fire do esp32-kitchen fan on between 25:00 and 06:00\n",
         "home.rules:1: between: '25:00' and '06:00' must be times of day"},
        {"when fire do esp32-kitchen fan on between 06:00 and 06:00\n",
         "home.rules:1: between: the window is empty"},
        {"when fire do esp32-kitchen fan on if dark 5m\n",
         "home.rules:1: if: the only condition is 'if empty DURATION'"},
        {"when fire do esp32-kitchen fan on then sideways\n",
         "home.rules:1: a fan takes on, off or toggle, not 'sideways'"},
        {"when fire do esp32-kitchen fan on cooldown 1m cooldown 2m\n",
         "home.rules:1: 'cooldown' given twice"},
        {"when fire do esp32-kitchen fan on loudly\n", "home.rules:1: unknown word 'loudly'"},
        // a file without a rule
        {"# nothing yet\n\n", "home.rules: no rule in the file"},
        {"", "home.rules: no rule in the file"},
    };
    for (const auto& [text, expected] : cases) {
        const std::string got = refusal(text);
        BOOST_TEST_INFO("rules: " << text);
        BOOST_TEST(got.find(expected) == 0u, got << " does not start with " << expected);
    }
}

BOOST_AUTO_TEST_CASE(rules_that_do_not_conflict) {
    // Different kinds, different rooms, different actuators, the same action twice: all fine.
    const auto rules = parse_rules("when fire do esp32-kitchen fan on\n"
                                   "when intrusion do esp32-kitchen fan off\n"
                                   "when gas-leak in kitchen do esp32-kitchen relay on\n"
                                   "when gas-leak in hall do esp32-kitchen relay off\n"
                                   "when gas-leak do esp32-kitchen valve close\n"
                                   "when any do esp32-kitchen valve close\n",
                                   "ok.rules");
    BOOST_TEST(rules.size() == 6u);
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_exit_66) {
    try {
        (void)load_rules("/nonexistent/home.rules");
        BOOST_FAIL("loaded");
    } catch (const Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == 66);
        BOOST_TEST(std::string(e.what()) ==
                   "--rules /nonexistent/home.rules: cannot read: No such file or directory");
    }
}
