// adapt/: every fixture of tests/data/formats (written from each project's documented examples)
// read with its own format and with --format auto gives the expected readings, statuses,
// problems and ignored messages; bad payloads are problems, never a crash; auto tells the formats
// apart by topic, and by the payload's shape where the topic says nothing.
#define BOOST_TEST_MODULE adapt_formats
#include "iotshield/adapt/adapter.hpp"
#include "iotshield/adapt/format.hpp"
#include "iotshield/adapt/topics.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/record/serialize.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace iots;
using adapt::Format;

namespace {

const std::string kData = std::string(IOTS_TEST_DATA_DIR) + "/formats/";
constexpr core::Millis kWall = 1761408000000; // 2025-10-25T16:00:00Z, the time of receipt

std::vector<std::string> lines_of(const std::string& path) {
    std::ifstream in(path);
    BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

// What the adapter makes of each message line, one output line each, labelled with the
// message's number.
std::vector<std::string> adapt_file(const std::string& name, Format format) {
    adapt::Options o;
    o.format = format;
    o.utc_offset_s = 2 * 3600;
    adapt::Adapter adapter(o);
    adapt::Result res;
    std::vector<std::string> out;
    int n = 0;
    for (const auto& line : lines_of(kData + name + ".msgs")) {
        if (line.empty() || line[0] == '#')
            continue;
        ++n;
        adapter.adapt_line(line, kWall, res);
        const std::string label = std::to_string(n) + " ";
        switch (res.kind) {
        case adapt::Kind::native:
            out.push_back(label + "native");
            break;
        case adapt::Kind::ignored:
            out.push_back(label + "ignored");
            break;
        case adapt::Kind::status:
            out.push_back(label + "status " + res.device + " " + res.status);
            break;
        case adapt::Kind::readings:
            for (const auto& p : res.problems)
                out.push_back(label + "problem: " + p);
            for (const auto& r : res.readings)
                out.push_back(label + record::to_json(r));
            if (res.problems.empty() && res.readings.empty())
                out.push_back(label + "nothing");
            break;
        }
    }
    return out;
}

void check_file(const std::string& name, Format format) {
    const auto got = adapt_file(name, format);
    if (std::getenv("FORMATS_UPDATE") != nullptr) { // to review by hand before committing
        std::ofstream f(kData + name + ".expected");
        for (const auto& l : got)
            f << l << '\n';
        return;
    }
    const auto want = lines_of(kData + name + ".expected");
    BOOST_TEST_CONTEXT(name << " as " << adapt::format_name(format)) {
        for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i)
            BOOST_CHECK_EQUAL(got[i], want[i]);
        BOOST_CHECK_EQUAL(got.size(), want.size());
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(seed_fixtures) {
    check_file("seed", Format::seed);
}
BOOST_AUTO_TEST_CASE(zigbee2mqtt_fixtures) {
    check_file("zigbee2mqtt", Format::zigbee2mqtt);
}
BOOST_AUTO_TEST_CASE(tasmota_fixtures) {
    check_file("tasmota", Format::tasmota);
}
BOOST_AUTO_TEST_CASE(esphome_fixtures) {
    check_file("esphome", Format::esphome);
}

// auto reads every fixture as its own format does: it told them apart by topic.
BOOST_AUTO_TEST_CASE(auto_reads_every_fixture_as_its_format) {
    if (std::getenv("FORMATS_UPDATE") != nullptr)
        return;
    for (const auto* name : {"seed", "zigbee2mqtt", "tasmota", "esphome"})
        check_file(name, Format::automatic);
}

// Malformed JSON, a value that is not a number, an unknown driver, a wrong status word: each a
// problem with a reason (the tool rejects it naming the topic and counts it); what else the
// payload held is still read.
BOOST_AUTO_TEST_CASE(bad_payloads_are_problems) {
    check_file("bad", Format::automatic);
}

BOOST_AUTO_TEST_CASE(auto_tells_formats_apart_by_topic) {
    struct Case {
        const char* topic;
        std::optional<Format> want;
    };
    const Case cases[] = {
        {"iotshield/sensors/data", Format::seed},
        {"iotshield/sensors/esp32-a/temperature", Format::iotshield},
        {"iotshield/status/esp32-a", Format::iotshield},
        {"zigbee2mqtt/kitchen", Format::zigbee2mqtt},
        {"zigbee2mqtt/bridge/state", Format::zigbee2mqtt}, // and ignored by it
        {"tele/sonoff/SENSOR", Format::tasmota},
        {"tele/sonoff/LWT", Format::tasmota},
        {"tele/sonoff/STATE", Format::tasmota}, // and ignored by it
        {"livingroom/sensor/temperature/state", Format::esphome},
        {"livingroom/binary_sensor/motion/state", Format::esphome},
        {"livingroom/status", Format::esphome},
        {"home/livingroom/sensor/temperature/state", Format::esphome},
        {"livingroom/switch/fan/state", std::nullopt},
        {"some/other/topic", std::nullopt},
        {"iotshield", std::nullopt},
    };
    for (const auto& c : cases)
        BOOST_TEST_CONTEXT(c.topic) {
            const auto got = adapt::format_of_topic(c.topic, "iotshield");
            BOOST_CHECK(got.has_value() == c.want.has_value());
            if (got && c.want)
                BOOST_CHECK_EQUAL(adapt::format_name(*got), adapt::format_name(*c.want));
        }
    // Another prefix moves IoTShield's own topics.
    BOOST_CHECK(adapt::format_of_topic("home/sensors/data", "home") == Format::seed);
    BOOST_CHECK(!adapt::format_of_topic("iotshield/sensors/data", "home"));
}

// Where the topic says nothing (a -t of the user's, a bare line on stdin), the payload's shape.
BOOST_AUTO_TEST_CASE(auto_falls_back_on_the_payload_shape) {
    adapt::Options ao;
    ao.format = Format::automatic;
    adapt::Adapter a(ao);
    adapt::Result r;
    a.adapt("old/node",
            R"({"device_id":"n1","sensor_type":"HUMIDITY","value":40,"timestamp":1761410712})",
            kWall, r);
    BOOST_REQUIRE(r.kind == adapt::Kind::readings);
    BOOST_CHECK(r.format == Format::seed);
    BOOST_REQUIRE_EQUAL(r.readings.size(), 1U);
    BOOST_CHECK_EQUAL(r.readings[0].sensor, "humidity");
    a.adapt("my/topic", R"({"ts":1761410712000,"device":"d","sensor":"gas","value":1})", kWall, r);
    BOOST_CHECK(r.kind == adapt::Kind::native);
    a.adapt("my/topic", R"({"hello":"world"})", kWall, r);
    BOOST_CHECK(r.kind == adapt::Kind::ignored);
    a.adapt("my/topic", "21.5", kWall, r);
    BOOST_CHECK(r.kind == adapt::Kind::ignored);
    // A bare line on stdin: the record parser's own, or the seed's.
    a.adapt_line(R"({"ts":1761410712000,"device":"d","sensor":"gas","value":1})", kWall, r);
    BOOST_CHECK(r.kind == adapt::Kind::native);
    a.adapt_line(R"({"device_id":"n1","sensor_type":"TEMP","value":20,"timestamp":1761410712})",
                 kWall, r);
    BOOST_REQUIRE_EQUAL(r.readings.size(), 1U);
    BOOST_CHECK_EQUAL(r.readings[0].sensor, "temperature");
}

// A format whose device is in the topic cannot read a line without one.
BOOST_AUTO_TEST_CASE(a_topic_is_needed_where_the_device_is_in_it) {
    for (const Format f : {Format::zigbee2mqtt, Format::tasmota, Format::esphome}) {
        adapt::Options fo;
        fo.format = f;
        adapt::Adapter a(fo);
        adapt::Result r;
        a.adapt_line(R"({"temperature":21.5})", kWall, r);
        BOOST_CHECK(r.kind == adapt::Kind::readings);
        BOOST_REQUIRE_EQUAL(r.problems.size(), 1U);
        BOOST_CHECK_NE(r.problems[0].find("no topic"), std::string::npos);
    }
}

// Redelivered, a payload with a time of its own gives the same readings (the store's identity
// (device, sensor, ts, value) makes it a duplicate); one without is stamped on receipt.
BOOST_AUTO_TEST_CASE(own_time_makes_a_redelivery_the_same_reading) {
    adapt::Options o;
    o.format = Format::automatic;
    o.utc_offset_s = 0;
    adapt::Adapter a(o);
    adapt::Result first, again;
    const std::string tasmota =
        R"({"Time":"2025-10-25T16:45:12","AM2301":{"Temperature":21.5,"Humidity":40.1}})";
    a.adapt("tele/t1/SENSOR", tasmota, kWall, first);
    a.adapt("tele/t1/SENSOR", tasmota, kWall + 60000, again);
    BOOST_CHECK(first.own_time);
    BOOST_CHECK(first.readings == again.readings);
    a.adapt("node/sensor/temperature/state", "21.5", kWall, first);
    a.adapt("node/sensor/temperature/state", "21.5", kWall + 60000, again);
    BOOST_CHECK(!first.own_time);
    BOOST_CHECK_EQUAL(first.readings.at(0).ts, kWall);
    BOOST_CHECK_EQUAL(again.readings.at(0).ts, kWall + 60000);
}

// Tasmota's local time in the home's zone, daylight saving included: 2025-10-25 is CEST (+2),
// 2025-10-26 after 03:00 CET (+1).
BOOST_AUTO_TEST_CASE(tasmota_local_time_in_a_zone) {
    adapt::Options o;
    o.format = Format::tasmota;
    o.zone = core::Zone::named("Europe/Berlin");
    adapt::Adapter a(o);
    adapt::Result r;
    a.adapt("tele/t/SENSOR", R"({"Time":"2025-10-25T16:45:12","BH1750":{"Illuminance":5}})", kWall,
            r);
    BOOST_REQUIRE_EQUAL(r.readings.size(), 1U);
    BOOST_CHECK_EQUAL(core::format_rfc3339(r.readings[0].ts), "2025-10-25T14:45:12.000Z");
    a.adapt("tele/t/SENSOR", R"({"Time":"2025-10-27T08:00:00","BH1750":{"Illuminance":5}})", kWall,
            r);
    BOOST_REQUIRE_EQUAL(r.readings.size(), 1U);
    BOOST_CHECK_EQUAL(core::format_rfc3339(r.readings[0].ts), "2025-10-27T07:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(utc_offsets) {
    BOOST_CHECK(adapt::parse_utc_offset("+02:00") == 7200);
    BOOST_CHECK(adapt::parse_utc_offset("-05:30") == -19800);
    BOOST_CHECK(adapt::parse_utc_offset("+0100") == 3600);
    BOOST_CHECK(adapt::parse_utc_offset("+2") == 7200);
    BOOST_CHECK(adapt::parse_utc_offset("Z") == 0);
    BOOST_CHECK(adapt::parse_utc_offset("0") == 0);
    for (const char* bad : {"", "2", "+25", "+14:01", "+02:0", "+ab", "+02:60", "UTC+2"})
        BOOST_CHECK_MESSAGE(!adapt::parse_utc_offset(bad), bad);
}

BOOST_AUTO_TEST_CASE(subscriptions_follow_the_format) {
    using V = std::vector<std::string>;
    BOOST_CHECK(adapt::subscriptions(Format::iotshield, "home") ==
                (V{"home/sensors/#", "home/status/#"}));
    BOOST_CHECK(adapt::subscriptions(Format::seed, "home") == (V{"home/sensors/data"}));
    BOOST_CHECK(adapt::subscriptions(Format::zigbee2mqtt, "home") == (V{"zigbee2mqtt/#"}));
    BOOST_CHECK(adapt::subscriptions(Format::tasmota, "home") ==
                (V{"tele/+/SENSOR", "tele/+/LWT"}));
    BOOST_CHECK(adapt::subscriptions(Format::esphome, "home") ==
                (V{"+/sensor/+/state", "+/binary_sensor/+/state", "+/status"}));
    BOOST_CHECK_EQUAL(adapt::subscriptions(Format::automatic, "home").size(), 8U);
}

BOOST_AUTO_TEST_CASE(format_options) {
    adapt::Options o;
    adapt::read_format_options("zigbee2mqtt", "", "home", o);
    BOOST_CHECK(o.format == Format::zigbee2mqtt);
    BOOST_CHECK_EQUAL(o.prefix, "home");
    adapt::read_format_options("", "-03:00", "iotshield", o);
    BOOST_CHECK(o.utc_offset_s == -10800);
    BOOST_CHECK_EXCEPTION(
        adapt::read_format_options("homie", "", "iotshield", o), Error, [](const Error& e) {
            return e.code() == Exit::usage && std::string(e.what()).find("--format: 'homie'") == 0;
        });
    BOOST_CHECK_EXCEPTION(adapt::read_format_options("", "+25", "iotshield", o), Error,
                          [](const Error& e) { return e.code() == Exit::usage; });
}
