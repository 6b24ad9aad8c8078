// The node's commands and answers against the hub's record::parse_command/ack_json (what
// iots-sim --actuators does): the same commands accepted, the same answers byte for byte, and
// the relays driven as the simulator drives its actuators.
#define BOOST_TEST_MODULE firmware_commands
#include "firmware_fakes.hpp"
#include "iotsfw/command.hpp"
#include "iotsfw/node.hpp"
#include "iotshield/record/command.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

namespace {
constexpr std::int64_t kTs = 1761410712123;
}

// Each payload through both parsers: the same verdict, the same problem, the same ack text.
BOOST_AUTO_TEST_CASE(commands_parse_and_answer_as_the_hubs_record_code) {
    const char* const payloads[] = {
        R"({"kind":"command","id":"c1","ts":"2025-10-06T00:00:00Z","device":"esp32-kitchen","actuator":"fan","action":"on"})",
        R"({"kind":"command","id":42,"device":"esp32-kitchen","actuator":"valve","action":"close"})",
        R"({"id":"no-device","actuator":"buzzer","action":"off"})",
        R"({"kind":"command","id":"cmd-2","device":"esp32-kitchen","actuator":"laser","action":"on"})",
        R"({"kind":"command","id":"x","device":"esp32-livingroom","actuator":"fan","action":"on"})",
        "{\"kind\":\"command\",\"id\":\"x\",\"device\":\"es\\tc\\u001b[2J\",\"actuator\":\"fan\"}",
        R"({"kind":"order","id":"k","actuator":"fan","action":"on"})",
        R"({"kind":"command","id":"n","device":7,"actuator":"fan","action":"on"})",
        R"({"id":"m","actuator":"fan"})",
        R"({"id":"esc\"\\\n\u00e9\ud83d\ude00","actuator":"fan","action":"on"})",
        R"({"id":1.50,"actuator":"fan","action":"on"})",
        R"({"id":1e2,"actuator":"fan","action":"on"})",
        R"({"id":-0,"actuator":"fan","action":"on"})",
        R"({"id":-0.0,"actuator":"fan","action":"on"})",
        R"({"id":1.5e300,"actuator":"fan","action":"on"})",
        R"({"id":0.00012,"actuator":"fan","action":"on"})",
        R"({"id":1.2e-7,"actuator":"fan","action":"on"})",
        R"({"id":123456789012345678.5,"actuator":"fan","action":"on"})",
        R"({"id":0.1,"actuator":"fan","action":"on"})",
        R"({"id":"dup","id":"last","actuator":"fan","action":"on","extra":{"a":[1,2,{"b":null}]}})",
        R"(  {"id":"ws" , "actuator" : "relay" , "action" : "toggle"}  )",
    };
    for (const char* p : payloads) {
        BOOST_TEST_CONTEXT(p) {
            std::string e_hub, e_node;
            const auto hub = iots::record::parse_command(p, "esp32-kitchen", e_hub);
            const auto node = iots::fw::parse_command(p, "esp32-kitchen", e_node);
            BOOST_REQUIRE(hub.has_value());
            BOOST_REQUIRE(node.has_value());
            BOOST_TEST(node->id_json == hub->id_json);
            BOOST_TEST(node->device == hub->device);
            BOOST_TEST(node->actuator == hub->actuator);
            BOOST_TEST(node->action == hub->action);
            BOOST_TEST(node->problem == hub->problem);
            const std::string failure = node->problem;
            BOOST_TEST(iots::fw::ack_json(*node, kTs, failure) ==
                       iots::record::ack_json(*hub, kTs, failure));
            // And the sender reads the answer.
            std::string why;
            const auto ack =
                iots::record::parse_ack(iots::fw::ack_json(*node, std::nullopt, failure), why);
            if (hub->id_json.front() == '"') {
                BOOST_REQUIRE_MESSAGE(ack.has_value(), why);
                BOOST_TEST(ack->status == (failure.empty() ? "done" : "failed"));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(unanswerable_payloads_are_refused_alike) {
    const char* const payloads[] = {"not json",
                                    R"({"actuator":"fan"})",
                                    R"({"id":null})",
                                    R"({"id":["a"]})",
                                    R"(["id"])",
                                    R"({"id":"a"} trailing)",
                                    R"({"id":"a",})",
                                    R"({"id":"\ud800"})",
                                    "{\"id\":\"a\xff\"}",
                                    R"({"id":01})",
                                    ""};
    for (const char* p : payloads) {
        BOOST_TEST_CONTEXT(p) {
            std::string e_hub, e_node;
            BOOST_TEST(!iots::record::parse_command(p, "n", e_hub));
            BOOST_TEST(!iots::fw::parse_command(p, "n", e_node));
            BOOST_TEST(e_node == e_hub);
        }
    }
}

// The simulator's actuators: fan, buzzer, relay on/off; the valve open/on and close/closed/off;
// anything else fails with its reasons.
BOOST_AUTO_TEST_CASE(actuations_follow_the_simulator) {
    using iots::fw::Actuator;
    const struct {
        const char *actuator, *action;
        Actuator which;
        bool on;
        const char* failure;
    } cases[] = {
        {"fan", "on", Actuator::fan, true, ""},
        {"fan", "off", Actuator::fan, false, ""},
        {"buzzer", "on", Actuator::buzzer, true, ""},
        {"relay", "off", Actuator::relay, false, ""},
        {"valve", "open", Actuator::valve, true, ""},
        {"valve", "on", Actuator::valve, true, ""},
        {"valve", "close", Actuator::valve, false, ""},
        {"valve", "closed", Actuator::valve, false, ""},
        {"valve", "off", Actuator::valve, false, ""},
        {"fan", "toggle", Actuator::fan, false, "unknown action 'toggle' for fan (on, off)"},
        {"valve", "half", Actuator::valve, false, "unknown action 'half' for valve (open, close)"},
        {"laser", "on", Actuator::fan, false,
         "unknown actuator 'laser' (fan, valve, buzzer, relay)"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.actuator << " " << c.action) {
            const auto a = iots::fw::plan_actuation(c.actuator, c.action);
            BOOST_TEST(a.failure == c.failure);
            if (a.failure.empty()) {
                BOOST_TEST((a.actuator == c.which));
                BOOST_TEST(a.on == c.on);
            }
        }
    }
}

// Through the node: the control topic drives the relay and the ack goes to …/ack, with ts only
// when the clock is set; a failed command leaves the relays alone; others' topics are ignored.
BOOST_AUTO_TEST_CASE(the_node_drives_relays_and_acknowledges_by_id) {
    fwtest::FakeBoard board;
    fwtest::FakeStore flash;
    fwtest::FakeTransport transport;
    iots::fw::NodeConfig config;
    config.device = "esp32-kitchen";
    iots::fw::Node node(config, board, flash, transport);
    node.begin();
    node.loop();
    BOOST_TEST(transport.subscriptions ==
               std::vector<std::string>{"iotshield/control/esp32-kitchen"});
    board.relays.clear();
    transport.sent.clear();

    node.on_message(
        "iotshield/control/esp32-kitchen",
        R"({"kind":"command","id":"cmd-1","device":"esp32-kitchen","actuator":"valve","action":"close"})");
    BOOST_REQUIRE(transport.sent.size() == 1u);
    BOOST_TEST(transport.sent[0].topic == "iotshield/control/esp32-kitchen/ack");
    BOOST_TEST(
        transport.sent[0].payload ==
        R"({"kind":"ack","id":"cmd-1","device":"esp32-kitchen","actuator":"valve","action":"close","status":"done"})");
    BOOST_REQUIRE(board.relays.size() == 1u);
    BOOST_TEST((board.relays[0].first == iots::fw::Actuator::valve));
    BOOST_TEST(!board.relays[0].second);

    board.epoch = kTs;
    node.on_message("iotshield/control/esp32-kitchen",
                    R"({"id":7,"actuator":"fan","action":"spin"})");
    BOOST_TEST(
        transport.sent.back().payload ==
        R"j({"kind":"ack","id":7,"ts":"2025-10-25T16:45:12.123Z","device":"esp32-kitchen","actuator":"fan","action":"spin","status":"failed","reason":"unknown action 'spin' for fan (on, off)"})j");
    BOOST_TEST(board.relays.size() == 1u);

    node.on_message("iotshield/control/esp32-kitchen", "garbage");
    node.on_message("iotshield/control/other", R"({"id":"o","actuator":"fan","action":"on"})");
    BOOST_TEST(transport.sent.size() == 2u);
    BOOST_TEST(node.stats().commands == 2u);
    BOOST_TEST(node.stats().failed_commands == 1u);
    BOOST_TEST(node.stats().ignored_commands == 1u);
}
