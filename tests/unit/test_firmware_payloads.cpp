// The firmware's records byte for byte, and read back by the hub's own parser (lib/iotshield/
// record): what a node sends is what iots-ingest stores. Its topics are the hub's (mqtt/topics).
#define BOOST_TEST_MODULE firmware_payloads
#include "iotsfw/json.hpp"
#include "iotsfw/records.hpp"
#include "iotsfw/topics.hpp"
#include "iotshield/mqtt/topics.hpp"
#include "iotshield/record/parser.hpp"
#include "iotshield/record/serialize.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <string>

using namespace iots;

namespace {
constexpr std::int64_t kTs = 1761410712123; // 2025-10-25T16:45:12.123Z

fw::Sample sample(fw::Kind k, double v, std::uint64_t seq) {
    fw::Sample s;
    s.kind = k;
    s.value = v;
    s.seq = seq;
    return s;
}
} // namespace

BOOST_AUTO_TEST_CASE(a_reading_is_the_design_example_byte_for_byte) {
    const std::string json =
        fw::reading_json("esp32-livingroom", sample(fw::Kind::temperature, 21.54, 1042), kTs);
    BOOST_TEST(json == R"({"ts":"2025-10-25T16:45:12.123Z","device":"esp32-livingroom",)"
                       R"("sensor":"temperature","value":21.5,"unit":"C","seq":1042})");
}

// Every kind the node sends, parsed by the hub's parser (ranges checked) and written back by the
// hub's serializer: the same bytes, so nothing is lost or reinterpreted on the way. (Except the
// number 100000, which the hub writes shortest as 1e+05: the same value.)
BOOST_AUTO_TEST_CASE(every_kind_is_accepted_by_the_record_parser_unchanged) {
    const struct {
        fw::Kind kind;
        double value;
        const char* text;
        const char* unit;
        double parsed;
    } cases[] = {
        {fw::Kind::temperature, -12.345, "-12.3", "C", -12.3},
        {fw::Kind::humidity, 40.0, "40", "%", 40},
        {fw::Kind::gas, 4.2538, "4.3", "ppm", 4.3},
        {fw::Kind::flame, 1, "1", "0/1", 1},
        {fw::Kind::motion, 0, "0", "0/1", 0},
        {fw::Kind::light, 19.66, "19.7", "lux", 19.7},
        {fw::Kind::light, 99999.96, "100000", "lux", 100000},
        {fw::Kind::temperature, -0.04, "0", "C", 0}, // never "-0"
    };
    record::Parser parser;
    for (const auto& c : cases) {
        const std::string json = fw::reading_json("esp32-kitchen", sample(c.kind, c.value, 7), kTs);
        BOOST_TEST_CONTEXT(json) {
            record::Reading r;
            BOOST_REQUIRE_MESSAGE(parser.parse(json, r), parser.error());
            BOOST_TEST(r.ts == kTs);
            BOOST_TEST(r.device == "esp32-kitchen");
            BOOST_TEST(r.sensor == fw::kind_info(c.kind).name);
            BOOST_TEST(r.unit == c.unit);
            BOOST_TEST(r.seq.value_or(-1) == 7);
            BOOST_TEST(json.find(std::string("\"value\":") + c.text + ",") != std::string::npos);
            BOOST_TEST(r.value == c.parsed);
            if (c.parsed != 100000)
                BOOST_TEST(record::to_json(r) == json);
        }
    }
}

// Before NTP: no ts at all (not 1970), so the hub stamps the reading on receipt.
BOOST_AUTO_TEST_CASE(before_ntp_a_reading_has_no_ts) {
    const std::string json =
        fw::reading_json("esp32-kitchen", sample(fw::Kind::humidity, 55.26, 3), std::nullopt);
    BOOST_TEST(json ==
               R"({"device":"esp32-kitchen","sensor":"humidity","value":55.3,"unit":"%","seq":3})");
    record::ParseOptions o;
    o.allow_missing_ts = true;
    record::Parser parser(o);
    record::Reading r;
    BOOST_REQUIRE_MESSAGE(parser.parse(json, r), parser.error());
    BOOST_TEST(r.ts == record::kMissingTs);
    BOOST_TEST(r.value == 55.3);
    record::Parser strict;
    BOOST_TEST(!strict.parse(json, r)); // the tools that need a time still say so
    BOOST_TEST(strict.error() == "missing field \"ts\"");
}

BOOST_AUTO_TEST_CASE(over_range_gas_is_capped_and_marked_and_still_accepted) {
    fw::Sample s = sample(fw::Kind::gas, 10000, 9);
    s.over_range = true;
    const std::string json = fw::reading_json("esp32-kitchen", s, kTs);
    record::Parser parser;
    record::Reading r;
    BOOST_REQUIRE_MESSAGE(parser.parse(json, r), parser.error());
    BOOST_TEST(r.value == 10000.0);
    BOOST_TEST(r.extra == R"("over_range":true)"); // passed through unchanged
}

BOOST_AUTO_TEST_CASE(fault_records) {
    BOOST_TEST(
        fw::fault_json("esp32-kitchen", fw::Kind::temperature, fw::Fault::dht_no_answer, kTs) ==
        R"({"kind":"fault","ts":"2025-10-25T16:45:12.123Z","device":"esp32-kitchen",)"
        R"j("sensor":"temperature","reason":"dht22: no valid answer (timeout, checksum or NaN)"})j");
    BOOST_TEST(fw::dropped_json("esp32-kitchen", 12, std::nullopt) ==
               R"({"kind":"fault","device":"esp32-kitchen",)"
               R"("reason":"offline buffer full: 12 oldest records dropped","dropped":12})");
    // Not a reading: the parser turns it away (it goes to its own topic, not sensors/).
    record::Parser parser;
    record::Reading r;
    BOOST_TEST(!parser.parse(fw::fault_json("n", fw::Kind::gas, fw::Fault::mq2_open, kTs), r));
    for (const fw::Fault f :
         {fw::Fault::dht_no_answer, fw::Fault::mq2_open, fw::Fault::mq2_saturated,
          fw::Fault::mq2_uncalibrated, fw::Fault::ldr_saturated}) {
        const auto j = nlohmann::json::parse(fw::fault_json("n", fw::Kind::gas, f, std::nullopt));
        BOOST_TEST(j.at("kind") == "fault");
        BOOST_TEST(!j.at("reason").get<std::string>().empty());
    }
}

BOOST_AUTO_TEST_CASE(topics_are_the_hubs) {
    BOOST_TEST(fw::sensor_topic("iotshield", "esp32-a", "gas") ==
               mqtt::sensor_topic("iotshield", "esp32-a", "gas"));
    BOOST_TEST(fw::status_topic("home", "esp32-a") == mqtt::status_topic("home", "esp32-a"));
    BOOST_TEST(fw::control_topic("home", "esp32-a") == mqtt::control_topic("home", "esp32-a"));
    BOOST_TEST(fw::ack_topic("home", "esp32-a") == mqtt::ack_topic("home", "esp32-a"));
    const mqtt::TopicParser parse("home");
    BOOST_TEST(parse.ack_device(fw::ack_topic("home", "esp32-a")).value_or("") == "esp32-a");
    BOOST_TEST(parse.status_device(fw::status_topic("home", "esp32-a")).value_or("") == "esp32-a");
    BOOST_TEST(fw::fault_topic("home", "esp32-a") == "home/faults/esp32-a");
}

// Times: the same text as the hub's core::format_rfc3339, across leap days and centuries.
BOOST_AUTO_TEST_CASE(rfc3339_matches_the_hub) {
    for (const std::int64_t ms :
         {std::int64_t{0}, std::int64_t{946684800000}, std::int64_t{951782400000},
          std::int64_t{1709164800999}, kTs, std::int64_t{4102444799999}}) {
        std::string ours;
        fw::append_rfc3339(ms, ours);
        BOOST_TEST(ours == core::format_rfc3339(ms));
    }
}

BOOST_AUTO_TEST_CASE(strings_escape_as_the_hubs) {
    const std::string s = "a\"b\\c\n\t\x01\x1f\x7f"
                          "é";
    std::string ours, hubs;
    fw::append_json_string(s, ours);
    record::append_json_string(s, hubs);
    BOOST_TEST(ours == hubs);
}
