// iots-act's rule engine with an injected clock: cooldown and rate limit under a flapping
// incident, retries then a HIGH alert, the then clause's delay, time windows across midnight and
// daylight saving, the home-empty condition, the dry run.
#define BOOST_TEST_MODULE act_engine
#include "iotshield/act/engine.hpp"
#include "iotshield/act/rules.hpp"
#include "iotshield/core/time.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <vector>

using namespace iots;
using namespace iots::act;
using nlohmann::json;

namespace {

constexpr core::Millis kT0 = 1761410712000; // 2025-10-25T16:45:12Z
constexpr core::Millis kSec = 1000;
constexpr core::Millis kMin = 60 * kSec;

struct Sent {
    std::string id, device, actuator, action;
};

// The fake node side: records every command, names them c1, c2...; `refuse` makes send() throw.
struct Harness : Sender, Sink {
    std::vector<Sent> sent;
    std::vector<json> actions, alerts;
    bool refuse = false;
    core::Logger log{"iots-act-test", core::Level::error};
    Engine engine;

    explicit Harness(const std::string& rules, EngineOptions o = {})
        : engine(parse_rules(rules, "home.rules"), std::move(o), *this, *this, log) {}

    std::string send(const std::string& device, const std::string& actuator,
                     const std::string& action) override {
        if (refuse)
            throw std::runtime_error("broker gone");
        sent.push_back({"c" + std::to_string(sent.size() + 1), device, actuator, action});
        return sent.back().id;
    }
    void action(const std::string& j, std::string_view) override {
        actions.push_back(json::parse(j));
    }
    void alert(const std::string& j, std::string_view) override {
        alerts.push_back(json::parse(j));
    }

    void incident(const std::string& event, const std::string& incident, core::Millis ts,
                  core::Millis now, const std::string& kind = "gas-leak",
                  const std::string& severity = "HIGH", const std::string& device = "esp32-kitchen",
                  const std::string& location = "kitchen") {
        AlertEvent a;
        a.id = incident + "." + std::to_string(++m_n);
        a.ts = ts;
        a.device = device;
        a.location = location;
        a.kind = kind;
        a.event = event;
        a.incident = incident;
        a.severity = *severity_rank(severity);
        engine.alert(a, now);
    }

private:
    int m_n = 0;
};

} // namespace

BOOST_AUTO_TEST_CASE(a_leak_closes_the_valve_and_the_ack_confirms_it) {
    Harness h("when gas-leak >= HIGH in kitchen do esp32-kitchen valve close\n"
              "when gas-leak >= CRITICAL do esp32-kitchen fan on\n"
              "when fire do esp32-kitchen buzzer on\n");
    h.incident("open", "i1", kT0, kT0);
    BOOST_REQUIRE_EQUAL(h.sent.size(), 1u); // HIGH: not the CRITICAL rule, not the fire rule
    BOOST_TEST(h.sent[0].actuator == "valve");
    BOOST_TEST(h.sent[0].action == "close");
    BOOST_REQUIRE_EQUAL(h.actions.size(), 1u);
    const json& a = h.actions[0];
    BOOST_TEST(a["kind"] == "action");
    BOOST_TEST(a["status"] == "sent");
    BOOST_TEST(a["rule"] == "home.rules:1");
    BOOST_TEST(a["command"] == "c1");
    BOOST_TEST(a["incident"] == "i1");
    BOOST_TEST(a["attempt"] == 1);
    BOOST_TEST(a["title"] == "Closing the gas valve in the kitchen");
    // It rises to CRITICAL: the fan rule fires; the valve rule still awaits its answer.
    h.incident("raise", "i1", kT0 + 10 * kSec, kT0 + 10 * kSec, "gas-leak", "CRITICAL");
    BOOST_REQUIRE_EQUAL(h.sent.size(), 2u);
    BOOST_TEST(h.sent[1].actuator == "fan");
    BOOST_TEST(h.engine.counters().skipped_busy == 1u);
    h.engine.answer("c1", "done", kT0 + 11 * kSec);
    h.engine.answer("c2", "done", kT0 + 11 * kSec);
    h.engine.answer("c2", "done", kT0 + 12 * kSec); // a second answer changes nothing
    BOOST_REQUIRE_EQUAL(h.actions.size(), 4u);
    BOOST_TEST(h.actions[2]["status"] == "done");
    BOOST_TEST(h.actions[2]["command"] == "c1");
    BOOST_TEST(h.actions[3]["status"] == "done");
    BOOST_TEST(h.engine.idle());
    h.engine.tick(kT0 + 10 * kMin); // nothing left to retry
    BOOST_TEST(h.sent.size() == 2u);
    BOOST_TEST(h.alerts.empty());
}

// An incident that opens and resolves every 20 s for 10 minutes (30 openings): the cooldown lets
// one command through per minute, the rate limit at most 3 in any 5 minutes.
BOOST_AUTO_TEST_CASE(cooldown_and_rate_limit_hold_under_a_flapping_incident) {
    Harness h("when gas-leak do esp32-kitchen fan on cooldown 1m max 3/5m confirm 1s\n");
    for (int i = 0; i < 30; ++i) {
        const core::Millis t = kT0 + i * 20 * kSec;
        const std::string id = "i" + std::to_string(i);
        h.incident("open", id, t, t);
        h.engine.answer("c" + std::to_string(h.sent.size()), "done", t + 100);
        h.incident("resolve", id, t + 10 * kSec, t + 10 * kSec);
    }
    // Cooldown alone: a command at 0, 60, 120, 180, 240... s. The rate limit: 3 in any 5 min: at
    // 0, 60 and 120 s; then none until 300 s, when the one at 0 s leaves the window: at 300, 360
    // and 420 s; the next could be at 600 s, past the end (580 s). 6 in all. Refused by the rate
    // limit: 180-280 s and 480-580 s, 6 openings each; the 12 others by the cooldown.
    BOOST_REQUIRE_EQUAL(h.sent.size(), 6u);
    const auto& c = h.engine.counters();
    BOOST_TEST(c.fired == 6u);
    BOOST_TEST(c.skipped_rate == 12u);
    BOOST_TEST(c.skipped_cooldown == 12u);
    std::vector<std::string> times;
    for (const json& a : h.actions)
        if (a["status"] == "sent")
            times.push_back(a["ts"].get<std::string>());
    BOOST_TEST(times.front() == core::format_rfc3339(kT0));
    BOOST_TEST(times.back() == core::format_rfc3339(kT0 + 420 * kSec));
}

BOOST_AUTO_TEST_CASE(an_unanswered_command_is_retried_then_alerted) {
    Harness h("when gas-leak do esp32-kitchen valve close confirm 3s retries 2\n");
    h.incident("open", "i1", kT0, kT0);
    BOOST_REQUIRE_EQUAL(h.sent.size(), 1u);
    h.engine.tick(kT0 + 2999);
    BOOST_TEST(h.sent.size() == 1u); // not yet
    BOOST_REQUIRE(h.engine.next_due().has_value());
    BOOST_TEST(*h.engine.next_due() == kT0 + 3000);
    h.engine.tick(kT0 + 3000);
    BOOST_REQUIRE_EQUAL(h.sent.size(), 2u); // try 2: a new command
    BOOST_TEST(h.sent[1].action == "close");
    h.engine.answer("c1", "done", kT0 + 3500); // too late: c1 was given up for c2
    h.engine.tick(kT0 + 6000);
    BOOST_REQUIRE_EQUAL(h.sent.size(), 3u);
    BOOST_TEST(h.alerts.empty());
    h.engine.tick(kT0 + 9000);
    BOOST_TEST(h.sent.size() == 3u); // 1 + 2 retries, then it gives up
    BOOST_REQUIRE_EQUAL(h.alerts.size(), 1u);
    const json& alert = h.alerts[0];
    BOOST_TEST(alert["kind"] == "alert");
    BOOST_TEST(alert["severity"] == "HIGH");
    BOOST_TEST(alert["source"] == "act");
    BOOST_TEST(alert["device"] == "esp32-kitchen");
    BOOST_TEST(alert["incident"] == "i1");
    BOOST_TEST(alert["description"].get<std::string>().find(
                   "The gas valve in the kitchen did not confirm closing: no answer after 3 "
                   "tries, 3s each") == 0u);
    std::vector<std::string> statuses;
    for (const json& a : h.actions)
        statuses.push_back(a["status"].get<std::string>() +
                           std::to_string(a["attempt"].get<int>()));
    const std::vector<std::string> expected{"sent1", "sent2", "sent3", "unconfirmed3"};
    BOOST_TEST(statuses == expected, boost::test_tools::per_element());
    BOOST_TEST(h.engine.counters().retries == 2u);
    BOOST_TEST(h.engine.counters().unconfirmed == 1u);
    BOOST_TEST(h.engine.idle());
}

BOOST_AUTO_TEST_CASE(a_failed_answer_is_alerted_at_once) {
    Harness h("when gas-leak do esp32-kitchen valve close\n");
    h.incident("open", "i1", kT0, kT0);
    h.engine.answer("c1", "failed", kT0 + 200);
    BOOST_REQUIRE_EQUAL(h.alerts.size(), 1u);
    BOOST_TEST(h.alerts[0]["title"] == "Gas valve in the kitchen did not confirm closing");
    BOOST_TEST(h.actions.back()["status"] == "failed");
    h.engine.tick(kT0 + kMin);
    BOOST_TEST(h.sent.size() == 1u); // the node said no: no retry
}

BOOST_AUTO_TEST_CASE(a_command_the_broker_refuses_counts_as_a_try) {
    Harness h("when gas-leak do esp32-kitchen valve close confirm 1s retries 1\n");
    h.refuse = true;
    h.incident("open", "i1", kT0, kT0);
    BOOST_TEST(h.actions.back()["status"] == "failed");
    h.refuse = false;
    h.engine.tick(kT0 + kSec);
    BOOST_REQUIRE_EQUAL(h.sent.size(), 1u); // the retry got through
    h.engine.answer("c1", "done", kT0 + kSec + 100);
    BOOST_TEST(h.actions.back()["status"] == "done");
    BOOST_TEST(h.actions.back()["attempt"] == 2);
}

BOOST_AUTO_TEST_CASE(then_clause_waits_its_delay_after_the_resolve) {
    Harness h("when gas-leak do esp32-kitchen fan on then off after 5m\n"
              "when fire do esp32-kitchen valve close\n");
    h.incident("open", "i1", kT0, kT0);
    h.engine.answer("c1", "done", kT0 + 100);
    h.incident("resolve", "i1", kT0 + 10 * kMin, kT0 + 10 * kMin);
    BOOST_REQUIRE(h.engine.next_due().has_value());
    BOOST_TEST(*h.engine.next_due() == kT0 + 15 * kMin);
    h.engine.tick(kT0 + 15 * kMin - 1);
    BOOST_TEST(h.sent.size() == 1u);
    h.engine.tick(kT0 + 15 * kMin);
    BOOST_REQUIRE_EQUAL(h.sent.size(), 2u);
    BOOST_TEST(h.sent[1].actuator == "fan");
    BOOST_TEST(h.sent[1].action == "off");
    BOOST_TEST(h.actions.back()["event"] == "resolve");
    BOOST_TEST(h.actions.back()["severity"] == "LOW");
    h.engine.answer("c2", "done", kT0 + 15 * kMin + 100);
    // A resolve of an incident no rule fired for sends nothing.
    h.incident("resolve", "other", kT0 + 16 * kMin, kT0 + 16 * kMin);
    h.engine.tick(kT0 + 30 * kMin);
    BOOST_TEST(h.sent.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_new_incident_cancels_the_waiting_then_clause) {
    Harness h("when gas-leak do esp32-kitchen fan on then off after 5m\n");
    h.incident("open", "i1", kT0, kT0);
    h.engine.answer("c1", "done", kT0 + 100);
    h.incident("resolve", "i1", kT0 + kMin, kT0 + kMin);
    h.incident("open", "i2", kT0 + 3 * kMin, kT0 + 3 * kMin); // the leak is back: fan on again
    BOOST_REQUIRE_EQUAL(h.sent.size(), 2u);
    BOOST_TEST(h.sent[1].action == "on");
    h.engine.answer("c2", "done", kT0 + 3 * kMin + 100);
    h.engine.tick(kT0 + 7 * kMin); // the first then clause would have been due at 6 min
    BOOST_TEST(h.sent.size() == 2u);
    BOOST_TEST(h.engine.counters().then_cancelled == 1u);
    h.incident("resolve", "i2", kT0 + 8 * kMin, kT0 + 8 * kMin);
    h.engine.tick(kT0 + 13 * kMin);
    BOOST_REQUIRE_EQUAL(h.sent.size(), 3u);
    BOOST_TEST(h.sent[2].action == "off");
}

// 22:00-06:00 in Berlin. On 2025-03-30 the clocks go from 02:00 CET to 03:00 CEST (01:00 UTC);
// on 2025-10-26 back from 03:00 CEST to 02:00 CET (01:00 UTC).
BOOST_AUTO_TEST_CASE(time_window_across_midnight_and_daylight_saving) {
    EngineOptions o;
    o.zone = core::Zone::named("Europe/Berlin");
    Harness h("when intrusion do esp32-hall buzzer on between 22:00 and 06:00 confirm 1s\n", o);
    const auto at = [](const char* t) { return *core::parse_rfc3339(t); };
    struct Case {
        const char* ts;
        bool fires;
    };
    const std::vector<Case> cases{
        {"2025-03-29T20:59:00Z", false}, // 21:59 CET
        {"2025-03-29T21:00:00Z", true},  // 22:00 CET
        {"2025-03-29T23:30:00Z", true},  // 00:30 CET, past midnight
        {"2025-03-30T00:59:00Z", true},  // 01:59 CET
        {"2025-03-30T01:00:00Z", true},  // 03:00 CEST
        {"2025-03-30T03:59:00Z", true},  // 05:59 CEST
        {"2025-03-30T04:00:00Z", false}, // 06:00 CEST (05:00 in standard time would be inside)
        {"2025-03-30T20:30:00Z", true},  // 22:30 CEST (21:30 in standard time would be outside)
        {"2025-10-25T20:00:00Z", true},  // 22:00 CEST
        {"2025-10-26T00:30:00Z", true},  // 02:30 CEST, before the clocks go back
        {"2025-10-26T01:30:00Z", true},  // 02:30 CET, the second time
        {"2025-10-26T04:59:00Z", true},  // 05:59 CET
        {"2025-10-26T05:00:00Z", false}, // 06:00 CET
        {"2025-10-26T12:00:00Z", false}, // 13:00 CET
    };
    std::size_t n = 0;
    for (const Case& c : cases) {
        const core::Millis t = at(c.ts);
        h.incident("open", std::string("i") + c.ts, t, t, "intrusion", "HIGH", "esp32-hall",
                   "hall");
        if (c.fires) {
            ++n;
            h.engine.answer(h.sent.back().id, "done", t + 1);
        }
        BOOST_TEST_INFO(c.ts);
        BOOST_TEST(h.sent.size() == n);
    }
    BOOST_TEST(h.engine.counters().skipped_window == 4u);
}

BOOST_AUTO_TEST_CASE(home_empty_is_judged_from_motion_before_the_incident) {
    Harness h("when intrusion do esp32-hall buzzer on if empty 30m\n");
    // Readings seen for less than 30 min: not judged empty.
    h.engine.reading("esp32-hall", "hall", "motion", 0, kT0);
    h.engine.reading("esp32-bedroom", "bedroom", "motion", 1, kT0 + 5 * kMin);
    h.incident("open", "i1", kT0 + 20 * kMin, kT0 + 20 * kMin, "intrusion", "HIGH", "esp32-hall",
               "hall");
    BOOST_TEST(h.sent.empty());
    // At 40 min: motion at 5 min is 35 min old; the intruder's own motion a few seconds before
    // the incident opened does not count.
    h.engine.reading("esp32-hall", "hall", "motion", 1, kT0 + 40 * kMin - 5 * kSec);
    h.incident("open", "i2", kT0 + 40 * kMin, kT0 + 40 * kMin, "intrusion", "HIGH", "esp32-hall",
               "hall");
    BOOST_TEST(h.sent.size() == 1u);
    h.engine.answer("c1", "done", kT0 + 40 * kMin);
    // Someone came home at 50 min: an incident at 60 min is not acted on.
    h.engine.reading("esp32-bedroom", "bedroom", "motion", 1, kT0 + 50 * kMin);
    h.incident("open", "i3", kT0 + 60 * kMin, kT0 + 60 * kMin, "intrusion", "HIGH", "esp32-hall",
               "hall");
    BOOST_TEST(h.sent.size() == 1u);
    BOOST_TEST(h.engine.counters().skipped_occupied == 2u);
}

BOOST_AUTO_TEST_CASE(a_dry_run_awaits_no_answer) {
    EngineOptions o;
    o.dry_run = true;
    Harness h("when gas-leak do esp32-kitchen valve close\n", o);
    h.incident("open", "i1", kT0, kT0);
    BOOST_REQUIRE_EQUAL(h.actions.size(), 1u);
    BOOST_TEST(h.actions[0]["status"] == "dry-run");
    BOOST_TEST(h.engine.idle());
    h.engine.tick(kT0 + kMin);
    BOOST_TEST(h.alerts.empty());
}

BOOST_AUTO_TEST_CASE(scopes_by_device_and_by_room) {
    Harness h("when any on esp32-hall do esp32-hall buzzer on confirm 1s\n"
              "when any in kitchen do esp32-kitchen fan on confirm 1s\n");
    h.incident("open", "i1", kT0, kT0, "heat", "LOW", "esp32-livingroom", "livingroom");
    BOOST_TEST(h.sent.empty());
    h.incident("open", "i2", kT0, kT0, "heat", "LOW", "esp32-hall", "hall");
    BOOST_REQUIRE_EQUAL(h.sent.size(), 1u);
    BOOST_TEST(h.sent[0].actuator == "buzzer");
    // The room comes from a reading's location when the alert has none.
    h.engine.reading("esp32-oven", "kitchen", "temperature", 21, kT0);
    h.incident("open", "i3", kT0, kT0, "heat", "LOW", "esp32-oven", "");
    BOOST_REQUIRE_EQUAL(h.sent.size(), 2u);
    BOOST_TEST(h.sent[1].actuator == "fan");
}

BOOST_AUTO_TEST_CASE(the_end_of_the_input_sends_the_waiting_then_clauses) {
    Harness h("when gas-leak do esp32-kitchen fan on then off after 10m\n");
    h.incident("open", "i1", kT0, kT0);
    h.engine.answer("c1", "done", kT0 + 100);
    h.incident("resolve", "i1", kT0 + kMin, kT0 + kMin);
    h.engine.end_of_input(kT0 + kMin + 1);
    BOOST_REQUIRE_EQUAL(h.sent.size(), 2u);
    BOOST_TEST(h.sent[1].action == "off");
    BOOST_TEST(h.engine.counters().then_sent == 1u);
}
