// record::parse_command and ack_json: what a node answers to a command it reads, and that a reason
// quoting the command's own text stays one printable line (found by fuzz_command).
#define BOOST_TEST_MODULE record_command
#include "iotshield/record/command.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

BOOST_AUTO_TEST_CASE(a_well_formed_command_has_no_problem) {
    std::string error;
    const auto c = iots::record::parse_command(
        R"({"kind":"command","id":"c1","device":"esp32-kitchen","actuator":"fan","action":"on"})",
        "esp32-kitchen", error);
    BOOST_REQUIRE(c.has_value());
    BOOST_TEST(c->problem.empty());
    BOOST_TEST(c->actuator == "fan");
    BOOST_TEST(c->action == "on");
    BOOST_TEST(c->id_json == R"("c1")");
}

BOOST_AUTO_TEST_CASE(a_device_with_control_characters_is_quoted_escaped) {
    std::string error;
    const auto c = iots::record::parse_command(
        "{\"kind\":\"command\",\"id\":\"x\",\"device\":\"es\\tc\\u001b[2J\",\"actuator\":\"fan\"}",
        "esp32-kitchen", error);
    BOOST_REQUIRE(c.has_value());
    BOOST_TEST(c->problem == "device 'es\\tc\\x1b[2J' does not match the topic's 'esp32-kitchen'");
    for (const char ch : c->problem)
        BOOST_TEST(static_cast<unsigned char>(ch) >= 0x20);
    const auto ack = iots::record::ack_json(*c, 0, c->problem);
    BOOST_TEST(ack.find('\n') == std::string::npos);
    BOOST_TEST(ack.find(R"("status":"failed")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_id_cannot_be_answered) {
    std::string error;
    BOOST_TEST(!iots::record::parse_command(R"({"actuator":"fan"})", "esp32-kitchen", error));
    BOOST_TEST(error == "command has no id (a string or number)");
    BOOST_TEST(!iots::record::parse_command("not json", "esp32-kitchen", error));
    BOOST_TEST(error == "command is not a JSON object");
}
