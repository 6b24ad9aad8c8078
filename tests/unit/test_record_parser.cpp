// record::Parser against DESIGN §2, one table row per rule: the line, and the exact reason it is
// rejected (empty: accepted). Every accepted line must also survive parse -> to_json -> parse.
// test_record_parser_reference.cpp checks the simdjson parser against a plain nlohmann::json
// reference.
#define BOOST_TEST_MODULE record_parser
#include "iotshield/record/parser.hpp"
#include "iotshield/record/sensor.hpp"
#include "iotshield/record/serialize.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

using iots::record::ParseOptions;
using iots::record::Parser;
using iots::record::Reading;

namespace {

const std::string kTs = R"("ts":"2025-10-25T16:45:12.123Z")";
constexpr std::int64_t kTsMs = 1761410712123; // 2025-10-25T16:45:12.123Z (Python datetime)

// A valid reading with members appended (or replacing nothing: duplicates are not used).
std::string with(std::string_view members) {
    std::string s = "{" + kTs + R"(,"device":"d1","sensor":"temperature","value":25.31)";
    s += members;
    s += "}";
    return s;
}

struct Row {
    std::string line;
    std::string reason; // empty: accepted
};

std::string shorten(std::string_view s) {
    return s.size() <= 160 ? std::string(s) : std::string(s.substr(0, 150)) + "...";
}

// parse -> to_json -> parse gives an equal Reading, and to_json is a fixed point after that.
void check_round_trip(const Reading& r, const ParseOptions& options = {}) {
    const std::string json = iots::record::to_json(r);
    Parser p(options);
    Reading again;
    BOOST_TEST_CONTEXT("to_json: " << shorten(json)) {
        BOOST_TEST_REQUIRE(p.parse(json, again), "re-parse failed: " << p.error());
        BOOST_TEST((again == r));
        BOOST_TEST(iots::record::to_json(again) == json);
    }
}

void check_rows(const std::vector<Row>& rows, const ParseOptions& options = {}) {
    Parser p(options);
    Reading r;
    for (const auto& row : rows) {
        BOOST_TEST_CONTEXT("line: " << shorten(row.line)) {
            const bool ok = p.parse(row.line, r);
            BOOST_TEST(ok == row.reason.empty());
            BOOST_TEST(p.error() == row.reason);
            if (ok)
                check_round_trip(r, options);
        }
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(a_typical_reading_is_parsed_into_every_field) {
    Parser p;
    Reading r;
    BOOST_TEST_REQUIRE(p.parse(R"({"ts":"2025-10-25T16:45:12.123Z","device":"esp32-livingroom",)"
                               R"("sensor":"temperature","value":25.31,"unit":"C","seq":1042,)"
                               R"("location":"living room","label":"normal"})",
                               r),
                       p.error());
    BOOST_TEST(r.ts == kTsMs);
    BOOST_TEST(r.device == "esp32-livingroom");
    BOOST_TEST(r.sensor == "temperature");
    BOOST_TEST(r.value == 25.31);
    BOOST_TEST(r.unit == "C");
    BOOST_TEST(r.seq.value_or(-1) == 1042);
    BOOST_TEST(r.location == "living room");
    BOOST_TEST(r.label == "normal");
    BOOST_TEST(!r.score.has_value());
    BOOST_TEST(!r.anomaly.has_value());
    BOOST_TEST(r.reasons.empty());
    BOOST_TEST(r.extra.empty());
    check_round_trip(r);
}

BOOST_AUTO_TEST_CASE(missing_required_fields_are_named) {
    check_rows({
        {R"({"device":"d1","sensor":"temperature","value":1})", R"(missing field "ts")"},
        {"{" + kTs + R"(,"sensor":"temperature","value":1})", R"(missing field "device")"},
        {"{" + kTs + R"(,"device":"d1","value":1})", R"(missing field "sensor")"},
        {"{" + kTs + R"(,"device":"d1","sensor":"temperature"})", R"(missing field "value")"},
        {"{}", R"(missing field "ts")"},
        {R"({"value":1})", R"(missing field "ts")"},
        // a field with another name is passed through, not mistaken for the required one
        {"{" + kTs + R"(,"Device":"d1","sensor":"temperature","value":1})",
         R"(missing field "device")"},
    });
}

BOOST_AUTO_TEST_CASE(wrong_types_are_reported_with_what_was_found) {
    const std::string tail = R"(,"device":"d1","sensor":"temperature","value":1})";
    check_rows({
        {R"({"ts":true)" + tail,
         "ts: expected an RFC 3339 string or epoch milliseconds, got a boolean"},
        {R"({"ts":null)" + tail, "ts: expected an RFC 3339 string or epoch milliseconds, got null"},
        {R"({"ts":{})" + tail,
         "ts: expected an RFC 3339 string or epoch milliseconds, got an object"},
        {R"({"ts":[1])" + tail,
         "ts: expected an RFC 3339 string or epoch milliseconds, got an array"},
        {"{" + kTs + R"(,"device":5,"sensor":"temperature","value":1})",
         "device: expected a string, got a number"},
        {"{" + kTs + R"(,"device":"d1","sensor":[],"value":1})",
         "sensor: expected a string, got an array"},
        {"{" + kTs + R"(,"device":"d1","sensor":"temperature","value":"25.3"})",
         "value: expected a number, got a string"},
        {"{" + kTs + R"(,"device":"d1","sensor":"temperature","value":null})",
         "value: expected a number, got null"},
        {"{" + kTs + R"(,"device":"d1","sensor":"temperature","value":true})",
         "value: expected a number, got a boolean"},
        {"{" + kTs + R"(,"device":"d1","sensor":"temperature","value":{"v":1}})",
         "value: expected a number, got an object"},
        {with(R"(,"unit":5)"), "unit: expected a string, got a number"},
        {with(R"(,"location":{})"), "location: expected a string, got an object"},
        {with(R"(,"label":3)"), "label: expected a string, got a number"},
        {with(R"(,"anomaly":1)"), "anomaly: expected a boolean, got a number"},
        {with(R"(,"anomaly":"true")"), "anomaly: expected a boolean, got a string"},
        {with(R"(,"reasons":"zscore")"), "reasons: expected an array of strings, got a string"},
        {with(R"(,"reasons":[1])"), "reasons: expected an array of strings"},
        {with(R"(,"reasons":["a",null])"), "reasons: expected an array of strings"},
        {with(R"(,"unit":"0123456789abcdefg")"), "unit: longer than 16 bytes"},
    });
}

BOOST_AUTO_TEST_CASE(non_finite_values_are_rejected) {
    const std::string head = "{" + kTs + R"(,"device":"d1","sensor":"temperature","value":)";
    check_rows({
        {head + "NaN}", "value: not a finite number"},
        {head + "Infinity}", "value: not a finite number"},
        {head + "-Infinity}", "value: not a finite number"},
        {head + "nan}", "value: not a finite number"},
        {head + "inf}", "value: not a finite number"},
        {head + "1e400}", "value: not a finite number"},
        {head + "-1e400}", "value: not a finite number"},
        {head + "1.7976931348623159e308}", "value: not a finite number"}, // rounds past DBL_MAX
        {"{" + kTs + R"(,"device":"d1","sensor":"x","value":1.7976931348623157e308})",
         ""},                   // DBL_MAX
        {head + "1e-400}", ""}, // underflow reads as 0, as every JSON reader does
        {head + "-0}", ""},
        // other members: the same rule, named by their key
        {with(R"(,"score":NaN)"), "score: not a finite number"},
        {with(R"(,"extra":NaN)"), "extra: not a finite number"},
        {with(R"(,"extra":-Infinity)"), "extra: not a finite number"},
        {with(R"(,"extra":1e400)"), "extra: not a finite number"},
        {with(R"(,"privacy":{"mech":"laplace","epsilon":NaN})"), "privacy: not a finite number"},
        {with(R"(,"list":[1,2,1e999])"), "list: not a finite number"},
        // a weird key is quoted in the message, so the message stays one line
        {with(R"(,"a\nb":NaN)"), R"("a\nb": not a finite number)"},
    });
}

BOOST_AUTO_TEST_CASE(malformed_numbers_are_not_valid_json) {
    const std::string head = "{" + kTs + R"(,"device":"d1","sensor":"temperature","value":)";
    check_rows({
        {head + "01}", "not valid JSON"},
        {head + "1.}", "not valid JSON"},
        {head + ".5}", "not valid JSON"},
        {head + "-}", "not valid JSON"},
        {head + "+1}", "not valid JSON"},
        {head + "1e}", "not valid JSON"},
        {head + "0x10}", "not valid JSON"},
        {head + "25.3x}", "not valid JSON"},
        {with(R"(,"x":01)"), "not valid JSON"},
        {with(R"(,"x":-)"), "not valid JSON"},
        {with(R"(,"x":[1,2.])"), "not valid JSON"},
        {R"({"ts":17614107121x,"device":"d1","sensor":"temperature","value":1})", "not valid JSON"},
    });
}

BOOST_AUTO_TEST_CASE(values_are_checked_against_the_range_of_their_kind) {
    auto row = [](std::string_view sensor, std::string_view value, std::string reason = {}) {
        return Row{"{" + kTs + R"(,"device":"d1","sensor":")" + std::string(sensor) +
                       R"(","value":)" + std::string(value) + "}",
                   std::move(reason)};
    };
    check_rows({
        row("temperature", "-40"),
        row("temperature", "125"),
        row("temperature", "-40.01", "value: -40.01 is out of range for temperature (-40 to 125)"),
        row("temperature", "125.5", "value: 125.5 is out of range for temperature (-40 to 125)"),
        row("humidity", "0"),
        row("humidity", "100"),
        row("humidity", "-0.5", "value: -0.5 is out of range for humidity (0 to 100)"),
        row("humidity", "100.1", "value: 100.1 is out of range for humidity (0 to 100)"),
        row("gas", "0"),
        row("gas", "10000"),
        row("gas", "-1", "value: -1 is out of range for gas (0 to 10000)"),
        row("gas", "10000.5", "value: 10000.5 is out of range for gas (0 to 10000)"),
        row("light", "0"),
        row("light", "100000"),
        row("light", "-1", "value: -1 is out of range for light (0 to 100000)"),
        row("light", "100001", "value: 100001 is out of range for light (0 to 100000)"),
        row("flame", "0"),
        row("flame", "1"),
        row("flame", "1.0"),
        row("flame", "0.5", "value: flame must be 0 or 1, got 0.5"),
        row("flame", "2", "value: flame must be 0 or 1, got 2"),
        row("flame", "-1", "value: flame must be 0 or 1, got -1"),
        row("motion", "0"),
        row("motion", "1"),
        row("motion", "0.999", "value: motion must be 0 or 1, got 0.999"),
        row("motion", "3", "value: motion must be 0 or 1, got 3"),
        // generic numeric series: any finite value, no range
        row("co2", "5000"),
        row("pressure", "-1e9"),
        row("power_w", "1e300"),
        row("x", "-1.5e-300"),
        // kinds are case-sensitive: "Temperature" is a generic series
        row("Temperature", "500"),
    });
}

BOOST_AUTO_TEST_CASE(ranges_are_not_checked_when_turned_off) {
    ParseOptions options;
    options.check_ranges = false;
    check_rows(
        {
            {"{" + kTs + R"(,"device":"d1","sensor":"temperature","value":500})", ""},
            {"{" + kTs + R"(,"device":"d1","sensor":"flame","value":0.5})", ""},
            // names, finiteness and the time range still hold
            {"{" + kTs + R"(,"device":"d 1","sensor":"flame","value":0})",
             "device: must be 1-64 characters of A-Z a-z 0-9 _ . -"},
            {"{" + kTs + R"(,"device":"d1","sensor":"flame","value":NaN})",
             "value: not a finite number"},
            {R"({"ts":253402300800000,"device":"d1","sensor":"flame","value":0})",
             "ts: outside the years 0001 to 9999"},
        },
        options);
}

BOOST_AUTO_TEST_CASE(device_and_sensor_names_are_validated) {
    const std::string bad_device = "device: must be 1-64 characters of A-Z a-z 0-9 _ . -";
    const std::string bad_sensor = "sensor: must be 1-64 characters of A-Z a-z 0-9 _ . -";
    auto dev = [](std::string_view name, std::string reason = {}) {
        return Row{"{" + kTs + R"(,"device":")" + std::string(name) +
                       R"(","sensor":"temperature","value":1})",
                   std::move(reason)};
    };
    auto sen = [](std::string_view name, std::string reason = {}) {
        return Row{"{" + kTs + R"(,"device":"d1","sensor":")" + std::string(name) +
                       R"(","value":1})",
                   std::move(reason)};
    };
    check_rows({
        dev("a"),
        dev(std::string(64, 'x')),
        dev("ESP32_kitchen.node-01"),
        dev("", bad_device),
        dev(std::string(65, 'x'), bad_device),
        dev("living room", bad_device),
        dev("home/kitchen", bad_device),
        dev("d\u00e9vice", bad_device),    // é as UTF-8
        dev(R"(d\u00e9vice)", bad_device), // é as an escape
        dev("+", bad_device),
        dev("#", bad_device),
        dev(R"(a\tb)", bad_device),
        dev(std::string(2000, 'x'), "device: longer than 1024 bytes"),
        sen("", bad_sensor),
        sen("co 2", bad_sensor),
        sen("a/b", bad_sensor),
        sen(std::string(64, 's')),
        sen(std::string(65, 's'), bad_sensor),
    });
}

// location and unit are shown as they are (pages, terminals, sqlite3): no control characters, which
// could clear a terminal or forge a log line. Any other Unicode is a room name; SQL and HTML are
// text. Unknown members keep their JSON escapes and are passed through.
BOOST_AUTO_TEST_CASE(control_characters_in_location_and_unit_are_rejected) {
    const std::string bad_location = "location: control characters are not allowed";
    const std::string bad_unit = "unit: control characters are not allowed";
    check_rows({
        {with(R"(,"location":"kitchen\u001b[2J")"), bad_location},
        {with(R"(,"location":"kit\u0000chen")"), bad_location},
        {with(R"(,"location":"a\nb")"), bad_location},
        {with(R"(,"location":"a\u007fb")"), bad_location},
        {with(R"(,"unit":"C\r")"), bad_unit},
        {with(R"(,"unit":"\t")"), bad_unit},
        {with(R"(,"location":"K\u00fcche \u2013 '); DROP TABLE readings;--")"), ""},
        {with(R"(,"location":"<img src=x onerror=alert(1)>")"), ""},
        {with(R"(,"note":"a\u0000b\u001b[31mc\nd")"), ""},
    });
    Parser p;
    Reading r;
    BOOST_TEST_REQUIRE(p.parse(with(R"(,"note":"a\u0000b\nc")"), r));
    BOOST_TEST(r.extra == R"("note":"a\u0000b\nc")");
}

// An MQTT payload may spread an unknown member over lines; passed on, it must stay one NDJSON line
// (line breaks and tabs outside strings are only whitespace: inside one they are invalid JSON).
BOOST_AUTO_TEST_CASE(an_unknown_member_over_several_lines_is_passed_on_as_one_line) {
    Parser p;
    Reading r;
    BOOST_TEST_REQUIRE(p.parse(with(",\"o\":{\n\t\"k\" :\r\n[1,\n2]}"), r));
    BOOST_TEST(r.extra == R"("o":{  "k" :  [1, 2]})");
    const std::string json = iots::record::to_json(r);
    BOOST_TEST(json.find_first_of("\n\r\t") == std::string::npos);
    check_round_trip(r);
}

BOOST_AUTO_TEST_CASE(timestamps_in_every_accepted_form) {
    struct TsRow {
        std::string token; // the JSON text of "ts"
        std::optional<std::int64_t> ms;
    };
    // Expected values from Python's datetime.fromisoformat(...).timestamp() * 1000.
    const std::vector<TsRow> rows = {
        {R"("2025-10-25T16:45:12.123Z")", kTsMs},
        {R"("2025-10-25T16:45:12.123z")", kTsMs},
        {R"("2025-10-25t16:45:12.123Z")", kTsMs},
        {R"("2025-10-25 16:45:12.123Z")", kTsMs},
        {R"("2025-10-25T16:45:12.123+00:00")", kTsMs},
        {R"("2025-10-25T16:45:12.123-00:00")", kTsMs},
        {R"("2025-10-25T16:45:12.123+02:00")", 1761403512123}, // 2 h earlier in UTC
        {R"("2025-10-25T16:45:12.123-05:30")", 1761430512123}, // 5 h 30 later in UTC
        {R"("2025-10-25T16:45:12Z")", 1761410712000},
        {R"("2025-10-25T16:45:12.1Z")", 1761410712100},
        {R"("2025-10-25T16:45:12.12Z")", 1761410712120},
        {R"("2025-10-25T16:45:12.123Z")", 1761410712123},
        {R"("2025-10-25T16:45:12.1234Z")", 1761410712123}, // past ms: truncated
        {R"("2025-10-25T16:45:12.12345Z")", 1761410712123},
        {R"("2025-10-25T16:45:12.123456Z")", 1761410712123},
        {R"("2025-10-25T16:45:12.1234567Z")", 1761410712123},
        {R"("2025-10-25T16:45:12.12345678Z")", 1761410712123},
        {R"("2025-10-25T16:45:12.123456789Z")", 1761410712123},
        {R"("2025-10-25T16:45:12.999999999Z")", 1761410712999},
        {R"("2025-10-25T23:59:60Z")", 1761436799000}, // leap second folded onto :59
        {R"("2024-02-29T00:00:00Z")", 1709164800000},
        {R"("2000-02-29T00:00:00Z")", 951782400000}, // 2000 is a leap year (divisible by 400)
        {R"("1969-12-31T23:59:59.999Z")", -1},
        {R"("0001-01-01T00:00:00Z")", -62135596800000},
        {R"("9999-12-31T23:59:59.999Z")", 253402300799999},
        {"1761410712123", kTsMs},
        {"0", 0},
        {"-1", -1},
        {"1.761410712123e12", kTsMs}, // an integer written with an exponent
        {"1761410712123.0", kTsMs},
        // rejected
        {R"("2025-02-29T00:00:00Z")", std::nullopt}, // 2025 is not a leap year
        {R"("1900-02-29T00:00:00Z")", std::nullopt}, // 1900 is not (divisible by 100)
        {R"("2025-04-31T00:00:00Z")", std::nullopt},
        {R"("2025-13-01T00:00:00Z")", std::nullopt},
        {R"("2025-00-01T00:00:00Z")", std::nullopt},
        {R"("2025-10-00T00:00:00Z")", std::nullopt},
        {R"("2025-10-25T24:00:00Z")", std::nullopt},
        {R"("2025-10-25T23:60:00Z")", std::nullopt},
        {R"("2025-10-25T23:59:61Z")", std::nullopt},
        {R"("2025-10-25T16:45:12")", std::nullopt}, // no zone
        {R"("2025-10-25T16:45:12.Z")", std::nullopt},
        {R"("2025-10-25T16:45:12+0200")", std::nullopt},
        {R"("2025-10-25T16:45:12+24:00")", std::nullopt},
        {R"("2025-10-25T16:45:12+02:60")", std::nullopt},
        {R"("2025-10-25")", std::nullopt},
        {R"("25-10-25T16:45:12Z")", std::nullopt},
        {R"("2025-10-25T16:45:12Z ")", std::nullopt},
        {R"(" 2025-10-25T16:45:12Z")", std::nullopt},
        {R"("")", std::nullopt},
        {"1761410712123.5", std::nullopt}, // a fraction of a millisecond
        {"1e300", std::nullopt},
    };
    Parser p;
    Reading r;
    for (const auto& row : rows) {
        const std::string line =
            R"({"ts":)" + row.token + R"(,"device":"d1","sensor":"temperature","value":1})";
        BOOST_TEST_CONTEXT("ts: " << row.token) {
            const bool ok = p.parse(line, r);
            BOOST_TEST(ok == row.ms.has_value(), p.error());
            if (ok && row.ms) {
                BOOST_TEST(r.ts == *row.ms);
                check_round_trip(r);
            } else if (!ok && row.token.front() == '"') {
                BOOST_TEST(p.error() == "ts: " + row.token + " is not an RFC 3339 time");
            } else if (!ok) {
                BOOST_TEST(p.error() == "ts: not an integer of epoch milliseconds");
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(timestamps_outside_years_0001_to_9999_are_rejected) {
    const std::string tail = R"(,"device":"d1","sensor":"temperature","value":1})";
    check_rows({
        {R"({"ts":"0000-12-31T23:59:59.999Z")" + tail, "ts: outside the years 0001 to 9999"},
        {R"({"ts":"0001-01-01T00:30:00+01:00")" + tail, "ts: outside the years 0001 to 9999"},
        {R"({"ts":"9999-12-31T23:59:59.999-00:01")" + tail, "ts: outside the years 0001 to 9999"},
        {R"({"ts":253402300800000)" + tail, "ts: outside the years 0001 to 9999"},
        {R"({"ts":-62135596800001)" + tail, "ts: outside the years 0001 to 9999"},
        {R"({"ts":9223372036854775807)" + tail, "ts: outside the years 0001 to 9999"},
        {R"({"ts":-9223372036854775808)" + tail, "ts: outside the years 0001 to 9999"},
        {R"({"ts":9223372036854775808)" + tail, "ts: not an integer of epoch milliseconds"},
    });
}

BOOST_AUTO_TEST_CASE(bad_time_text_is_quoted_and_cut_in_the_message) {
    Parser p;
    Reading r;
    // the escaped newline must not reach stderr raw; 40 bytes at most, cut on a character boundary
    BOOST_TEST(!p.parse(R"({"ts":"bad\ntime","device":"d1","sensor":"gas","value":1})", r));
    BOOST_TEST(p.error() == R"(ts: "bad\ntime" is not an RFC 3339 time)");
    const std::string long_ts = std::string(39, 'x') + "\u00e9" + "yyyy"; // é straddles byte 40
    BOOST_TEST(!p.parse(R"({"ts":")" + long_ts + R"("})", r));
    BOOST_TEST(p.error() == "ts: \"" + std::string(39, 'x') + "\" is not an RFC 3339 time");
}

BOOST_AUTO_TEST_CASE(unknown_members_are_passed_through_byte_for_byte) {
    struct PassRow {
        std::string members; // appended to the canonical reading, must come back exactly
        std::string extra;   // Reading::extra
    };
    const std::vector<PassRow> rows = {
        {R"(,"n":42)", R"("n":42)"},
        {R"(,"n":-0.0e+5)", R"("n":-0.0e+5)"},
        {R"(,"big":123456789012345678901234567890)", R"("big":123456789012345678901234567890)"},
        {R"(,"tiny":1e-400)", R"("tiny":1e-400)"},
        {R"(,"b":true,"f":false,"z":null)", R"("b":true,"f":false,"z":null)"},
        {R"(,"s":"a \"quoted\" \\ back\/slash \u00e9 \ud83d\ude00 \n\t\b\f\r \u0000")",
         R"("s":"a \"quoted\" \\ back\/slash \u00e9 \ud83d\ude00 \n\t\b\f\r \u0000")"},
        {R"(,"utf8":"caf)"
         "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"
         R"(")",
         R"("utf8":"caf)"
         "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"
         R"(")"},
        {R"(,"privacy":{"mech":"laplace","epsilon":0.5,"sensitivity":1.0})",
         R"("privacy":{"mech":"laplace","epsilon":0.5,"sensitivity":1.0})"},
        {R"(,"o":{"a":{"b":{"c":[1,[2,[3,{}]],[]]}}})",
         R"("o":{"a":{"b":{"c":[1,[2,[3,{}]],[]]}}})"},
        {R"(,"arr":[1,"two",{"three":3},[],null,true,-1.5e-3])",
         R"("arr":[1,"two",{"three":3},[],null,true,-1.5e-3])"},
        {R"(,"spaced":{ "a" : [ 1 , 2 ] })", R"("spaced":{ "a" : [ 1 , 2 ] })"},
        {R"(,"":"empty key")", R"("":"empty key")"},
    };
    Parser p;
    Reading r;
    for (const auto& row : rows) {
        const std::string line = with(row.members);
        BOOST_TEST_CONTEXT("line: " << line) {
            BOOST_TEST_REQUIRE(p.parse(line, r), p.error());
            BOOST_TEST(r.extra == row.extra);
            // the canonical order of the known members is the input's: output == input
            BOOST_TEST(iots::record::to_json(r) == line);
            check_round_trip(r);
        }
    }
}

BOOST_AUTO_TEST_CASE(spaces_around_passed_through_members_are_dropped_not_their_content) {
    // simdjson's raw_json_token() runs up to the next structural character, so it includes the
    // spaces after a scalar; they must not reach the output.
    Parser p;
    Reading r;
    BOOST_TEST_REQUIRE(p.parse(R"({ "ts" : 1761410712123 , "x" : 12   , "s" : "a b"	, )"
                               R"("o" : { "k" : 1 }  , "device":"d1" ,"sensor":"gas","value" : 3 ,)"
                               R"( "unit" : "ppm"  , "t" : true  })",
                               r),
                       p.error());
    BOOST_TEST(r.extra == R"("x":12,"s":"a b","o":{ "k" : 1 },"t":true)");
    BOOST_TEST(r.unit == "ppm");
    BOOST_TEST(r.value == 3.0);
    BOOST_TEST(iots::record::to_json(r) ==
               R"({"ts":"2025-10-25T16:45:12.123Z","device":"d1","sensor":"gas","value":3,)"
               R"("unit":"ppm","x":12,"s":"a b","o":{ "k" : 1 },"t":true})");
}

BOOST_AUTO_TEST_CASE(passed_through_members_are_validated_inside) {
    // simdjson On Demand skips values it is not asked for; a bad nested value must still be caught
    check_rows({
        {with(R"(,"o":{"a":tru})"), "not valid JSON"},
        {with(R"(,"o":{"a":nul})"), "not valid JSON"},
        {with(R"(,"o":[1,2})"), "not valid JSON"},
        {with(R"(,"o":[1}})"), "not valid JSON"},
        {with(R"(,"o":{"a" 1})"), "not valid JSON"},
        {with(R"(,"o":{"a":1,})"), "not valid JSON"},
        {with(R"(,"o":[1,])"), "not valid JSON"},
        {with(R"(,"o":{1:2})"), "not valid JSON"},
        {with(R"(,"o":["\q"])"), "not valid JSON"},
        {with(R"(,"o":["\ud800"])"), "not valid JSON"}, // lone high surrogate
        {with(R"(,"o":["\udc00"])"), "not valid JSON"}, // lone low surrogate
        {with(R"(,"o":["\ud800\u0041"])"), "not valid JSON"},
        {with(R"(,"o":["\u12G4"])"), "not valid JSON"},
        {with(R"(,"s":"\x")"), "not valid JSON"},
        {with(R"(,"t":truex)"), "not valid JSON"},
        {with(R"(,"t":nul)"), "not valid JSON"},
        {with(R"(,"t":fals)"), "not valid JSON"},
        {with(R"(,"o":{"a":[1,2,3]},"p":[{"q":"r"}])"), ""},
    });
}

BOOST_AUTO_TEST_CASE(a_repeated_member_is_rejected) {
    // readers disagree on which copy wins (first, last, error): refuse to guess
    check_rows({
        {with(R"(,"ts":"2025-10-25T16:45:12.123Z")"), R"(duplicate field "ts")"},
        {with(R"(,"value":1)"), R"(duplicate field "value")"},
        {with(R"(,"seq":1,"seq":2)"), R"(duplicate field "seq")"},
        {with(R"(,"x":1,"y":2,"x":1)"), R"(duplicate field "x")"},
        {with(R"(,"o":{"a":1,"a":2})"), ""}, // inside a passed-through value: not ours to judge
        {R"({"device_id":"a","device_id":"b","sensor_type":"GAS","value":1,"timestamp":1})",
         R"(duplicate field "device_id")"},
        // an escaped name is the same name
        {with(R"(,"\u0073eq":1,"seq":2)"), R"(duplicate field "seq")"},
    });
}

BOOST_AUTO_TEST_CASE(a_passed_through_scalar_is_followed_by_a_comma_or_the_end) {
    check_rows({
        {with(R"(,"x":"{k":null})"), "not valid JSON"},
        {with(R"(,"x":"a":1,"y":2)"), "not valid JSON"},
        {with(R"(,"x":1:2)"), "not valid JSON"},
        {with(R"(,"x":true:false)"), "not valid JSON"},
        {with(R"(,"x":null "y")"), "not valid JSON"},
    });
}

BOOST_AUTO_TEST_CASE(lines_that_are_not_one_json_object) {
    check_rows({
        {"", "empty line"},
        {"   ", "empty line"},
        {" \t\r ", "empty line"},
        {"[1,2]", "not a JSON object"},
        {R"([{"ts":1,"device":"d1","sensor":"gas","value":1}])", "not a JSON object"},
        {R"("text")", "not a JSON object"},
        {"42", "not a JSON object"},
        {"null", "not a JSON object"},
        {"hello", "not a JSON object"},
        {"{", "not valid JSON"},
        {R"({"ts":1761410712123,"device":"d1")", "not valid JSON"},
        {R"({"ts":1761410712123,"device":"d1",})", "not valid JSON"},
        {R"({"ts" 1})", "not valid JSON"},
        {R"({ts:1})", "not valid JSON"},
        {R"({'ts':1})", "not valid JSON"},
        {R"({"ts":1 "device":"d1"})", "not valid JSON"},
        {R"({"unterminated)", "not valid JSON"},
        // text after the object
        {with("") + R"( {"b":2})", "not valid JSON (text after the object)"},
        {with("") + "}", "not valid JSON (text after the object)"},
        {with("") + "]", "not valid JSON"},
        {with("") + " x", "not valid JSON"},
        {with("") + " 1", "not valid JSON"},
        {with("") + R"( "s")", "not valid JSON"},
        {with("") + " {", "not valid JSON"},
        {R"({"a":1} {"b":2})", "not valid JSON (text after the object)"},
        // JSON whitespace around the object is fine
        {"  " + with("") + " \t ", ""},
        {"\t" + with("") + "\r", ""},
        {"\n" + with("") + "\n", ""},
        {R"({ "ts" : "2025-10-25T16:45:12.123Z" , "device" : "d1" , "sensor" : "gas" , )"
         R"("value" : 1 })",
         ""},
    });
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_rejected) {
    check_rows({
        {with(",\"note\":\"\xff\""), "not valid UTF-8"},
        {with(",\"note\":\"\xc3\""), "not valid UTF-8"},             // truncated sequence
        {with(",\"note\":\"\xc0\xaf\""), "not valid UTF-8"},         // overlong '/'
        {with(",\"note\":\"\xed\xa0\x80\""), "not valid UTF-8"},     // an encoded surrogate
        {with(",\"note\":\"\xf4\x90\x80\x80\""), "not valid UTF-8"}, // past U+10FFFF
        {with(",\"n\xff\":1"), "not valid UTF-8"},                   // in a key
        {with(",\"note\":\"\xf0\x9f\x98\x80\""), ""},                // U+1F600 is fine
    });
}

BOOST_AUTO_TEST_CASE(control_characters_inside_strings_are_rejected) {
    check_rows({
        {with(",\"note\":\"a\tb\""), "not valid JSON"},
        {with(",\"note\":\"a\x01"
              "b\""),
         "not valid JSON"},
        {with(",\"unit\":\"\x1f\""), "not valid JSON"},
        {with(",\"note\":\"a\\tb\""), ""},
    });
}

BOOST_AUTO_TEST_CASE(labels_are_the_incident_kinds_or_normal) {
    std::vector<Row> rows;
    for (const char* label : {"normal", "fire", "gas-leak", "intrusion", "hvac-failure",
                              "sensor-stuck", "sensor-spike", "sensor-dropout"})
        rows.push_back({with(R"(,"label":")" + std::string(label) + "\""), ""});
    rows.push_back({with(R"(,"label":"Fire")"), R"(label: unknown incident kind "Fire")"});
    rows.push_back({with(R"(,"label":"")"), R"(label: unknown incident kind "")"});
    rows.push_back({with(R"(,"label":"gas leak")"), R"(label: unknown incident kind "gas leak")"});
    rows.push_back({with(R"(,"label":"a\nb")"), R"(label: unknown incident kind "a\nb")"});
    rows.push_back(
        {with(R"(,"label":")" + std::string(33, 'x') + "\""), "label: longer than 32 bytes"});
    check_rows(rows);
}

BOOST_AUTO_TEST_CASE(seq_is_a_non_negative_integer) {
    const std::string bad = "seq: expected a non-negative integer";
    check_rows({
        {with(R"(,"seq":0)"), ""},
        {with(R"(,"seq":1042)"), ""},
        {with(R"(,"seq":9223372036854775807)"), ""},
        {with(R"(,"seq":-1)"), bad},
        {with(R"(,"seq":1.5)"), bad},
        {with(R"(,"seq":1.0)"), bad},
        {with(R"(,"seq":1e3)"), bad},
        {with(R"(,"seq":"3")"), bad},
        {with(R"(,"seq":null)"), bad},
        {with(R"(,"seq":9223372036854775808)"), bad},
    });
}

BOOST_AUTO_TEST_CASE(scored_readings_carry_score_anomaly_and_reasons) {
    const std::string bad_score = "score: expected a number from 0 to 1";
    check_rows({
        {with(R"(,"score":0,"anomaly":false,"reasons":[])"), ""},
        {with(R"(,"score":1,"anomaly":true,"reasons":["threshold:gas","iforest"])"), ""},
        {with(R"(,"score":0.75)"), ""},
        {with(R"(,"anomaly":true)"), ""},
        {with(R"(,"reasons":["zscore"])"), ""},
        {with(R"(,"score":-0.1)"), bad_score},
        {with(R"(,"score":1.01)"), bad_score},
        {with(R"(,"score":"0.5")"), bad_score},
        {with(R"(,"score":null)"), bad_score},
    });
    // 32 codes of 64 bytes are fine, one more of either is not
    std::string ok_list, long_list;
    for (int i = 0; i < 32; ++i)
        ok_list += (i ? ",\"" : "\"") + std::string(64, 'r') + "\"";
    long_list = ok_list + ",\"r\"";
    check_rows({
        {with(R"(,"reasons":[)" + ok_list + "]"), ""},
        {with(R"(,"reasons":[)" + long_list + "]"), "reasons: at most 32 codes of 64 bytes"},
        {with(R"(,"reasons":[")" + std::string(65, 'r') + "\"]"),
         "reasons: at most 32 codes of 64 bytes"},
    });
    Parser p;
    Reading r;
    BOOST_TEST_REQUIRE(p.parse(with(R"(,"score":0.75,"anomaly":true,"reasons":["a","b"])"), r));
    BOOST_TEST(r.score.value_or(-1) == 0.75);
    BOOST_TEST(r.anomaly.value_or(false));
    BOOST_TEST((r.reasons == std::vector<std::string>{"a", "b"}));
}

BOOST_AUTO_TEST_CASE(the_seeds_legacy_shape_is_accepted) {
    struct LegacyRow {
        std::string line;
        std::int64_t ts;
        std::string device, sensor;
        double value;
    };
    const std::vector<LegacyRow> rows = {
        // Python's isoformat(): no zone, microseconds; the seed meant UTC
        {R"({"device_id":"esp32-01","sensor_type":"TEMPERATURE","value":25.3,"unit":"C",)"
         R"("timestamp":"2025-10-25T16:45:12.123456"})",
         kTsMs, "esp32-01", "temperature", 25.3},
        {R"({"device_id":"esp32-01","sensor_type":"HUMIDITY","value":40,"unit":"%",)"
         R"("timestamp":"2025-10-25T16:45:12"})",
         1761410712000, "esp32-01", "humidity", 40},
        // with a zone it is honoured
        {R"({"device_id":"n2","sensor_type":"GAS","value":300,"unit":"ppm",)"
         R"("timestamp":"2025-10-25T16:45:12.123+02:00"})",
         1761403512123, "n2", "gas", 300},
        // time.time(): epoch seconds, integer or with a fraction
        {R"({"device_id":"n2","sensor_type":"Flame","value":1,"timestamp":1761410712})",
         1761410712000, "n2", "flame", 1},
        {R"({"device_id":"n2","sensor_type":"MOTION","value":0,"timestamp":1761410712.5})",
         1761410712500, "n2", "motion", 0},
        // at or above 1e11 it is already milliseconds
        {R"({"device_id":"n2","sensor_type":"LIGHT","value":300,"timestamp":1761410712123})", kTsMs,
         "n2", "light", 300},
        // the current names win over the legacy ones
        {R"({"device_id":"old","device":"new","sensor_type":"GAS","sensor":"light","value":5,)"
         R"("timestamp":1,"ts":"2025-10-25T16:45:12.123Z"})",
         kTsMs, "new", "light", 5},
    };
    Parser p;
    Reading r;
    for (const auto& row : rows) {
        BOOST_TEST_CONTEXT("line: " << row.line) {
            BOOST_TEST_REQUIRE(p.parse(row.line, r), p.error());
            BOOST_TEST(r.ts == row.ts);
            BOOST_TEST(r.device == row.device);
            BOOST_TEST(r.sensor == row.sensor);
            BOOST_TEST(r.value == row.value);
            BOOST_TEST(r.extra.empty()); // legacy names are consumed, not passed through
            check_round_trip(r);
        }
    }
    check_rows({
        {R"({"device_id":"n2","sensor_type":"GAS","value":20000,"timestamp":1761410712})",
         "value: 20000 is out of range for gas (0 to 10000)"},
        {R"({"device_id":"bad id","sensor_type":"GAS","value":1,"timestamp":1761410712})",
         "device_id: must be 1-64 characters of A-Z a-z 0-9 _ . -"},
        {R"({"device_id":"n2","sensor_type":"AIR QUALITY","value":1,"timestamp":1761410712})",
         "sensor_type: must be 1-64 characters of A-Z a-z 0-9 _ . -"},
        {R"({"device_id":"n2","sensor_type":"GAS","value":1,"timestamp":"yesterday"})",
         R"(timestamp: "yesterday" is not an ISO 8601 time)"},
        {R"({"device_id":"n2","sensor_type":"GAS","value":1,"timestamp":true})",
         "timestamp: expected an ISO 8601 time or epoch seconds"},
        {R"({"device_id":"n2","sensor_type":"GAS","value":1})", R"(missing field "ts")"},
        {R"({"device_id":"n2","timestamp":1761410712,"value":1})", R"(missing field "sensor")"},
        {R"({"device_id":7,"sensor_type":"GAS","value":1,"timestamp":1})",
         "device_id: expected a string, got a number"},
    });
}

BOOST_AUTO_TEST_CASE(the_legacy_shape_can_be_turned_off) {
    ParseOptions options;
    options.accept_legacy = false;
    Parser p(options);
    Reading r;
    BOOST_TEST(!p.parse(R"({"device_id":"n2","sensor_type":"GAS","value":1,"timestamp":1})", r));
    BOOST_TEST(p.error() == R"(missing field "ts")");
    // with the current names present, the legacy ones are unknown members, passed through
    BOOST_TEST_REQUIRE(p.parse(with(R"(,"device_id":"n2","timestamp":1)"), r), p.error());
    BOOST_TEST(r.extra == R"("device_id":"n2","timestamp":1)");
}

BOOST_AUTO_TEST_CASE(one_megabyte_lines) {
    const std::string blob(1 << 20, 'a');
    Parser p;
    Reading r;
    // valid: a huge passed-through string
    const std::string good = with(R"(,"blob":")" + blob + "\"");
    BOOST_TEST_REQUIRE(p.parse(good, r), p.error());
    BOOST_TEST(r.extra.size() == blob.size() + 9); // "blob":"…" adds 9 bytes
    BOOST_TEST(iots::record::to_json(r) == good);
    check_round_trip(r);
    // invalid: the only defect is at the very end
    BOOST_TEST(!p.parse(with(R"(,"blob":")" + blob + R"(\q")"), r));
    BOOST_TEST(p.error() == "not valid JSON");
    BOOST_TEST(!p.parse(with(R"(,"blob":")" + blob + "\xff\""), r));
    BOOST_TEST(p.error() == "not valid UTF-8");
    BOOST_TEST(!p.parse(with(R"(,"blob":[)" + std::string(1 << 19, '1') + ",NaN]"), r));
    BOOST_TEST(p.error() == "blob: not a finite number");
    BOOST_TEST(!p.parse(with(R"(,"blob":")" + blob + "\"") + " {}", r));
    BOOST_TEST(p.error() == "not valid JSON (text after the object)");
    // the same parser goes on with small lines, and keeps nothing from the big ones
    BOOST_TEST_REQUIRE(p.parse(with(""), r), p.error());
    BOOST_TEST(r.extra.empty());
    BOOST_TEST(iots::record::to_json(r) == with(""));
}

BOOST_AUTO_TEST_CASE(a_reused_parser_clears_the_reading_and_the_error) {
    Parser p;
    Reading r;
    BOOST_TEST_REQUIRE(p.parse(
        with(R"(,"unit":"C","seq":1,"score":0.5,"anomaly":true,"reasons":["a"],"x":1)"), r));
    BOOST_TEST(!p.parse("nope", r));
    BOOST_TEST(p.error() == "not a JSON object");
    BOOST_TEST((r == Reading{}));
    BOOST_TEST_REQUIRE(p.parse(with(""), r));
    BOOST_TEST(p.error().empty());
    BOOST_TEST(r.unit.empty());
    BOOST_TEST(!r.seq);
    BOOST_TEST(!r.score);
    BOOST_TEST(r.reasons.empty());
    BOOST_TEST(r.extra.empty());
    // a moved parser still works
    Parser moved = std::move(p);
    BOOST_TEST(moved.parse(with(""), r));
}

BOOST_AUTO_TEST_CASE(validate_applies_the_parsers_rules_to_built_readings) {
    Reading r;
    r.ts = kTsMs;
    r.device = "d1";
    r.sensor = "temperature";
    r.value = 20;
    BOOST_TEST(iots::record::validate(r) == "");
    auto with_change = [&](auto&& change) {
        Reading copy = r;
        change(copy);
        return iots::record::validate(copy);
    };
    BOOST_TEST(with_change([](Reading& x) { x.device = "a b"; }) ==
               "device: must be 1-64 characters of A-Z a-z 0-9 _ . -");
    BOOST_TEST(with_change([](Reading& x) { x.sensor = ""; }) ==
               "sensor: must be 1-64 characters of A-Z a-z 0-9 _ . -");
    BOOST_TEST(with_change([](Reading& x) {
                   x.value = std::numeric_limits<double>::quiet_NaN();
               }) == "value: not a finite number");
    BOOST_TEST(with_change([](Reading& x) {
                   x.value = -std::numeric_limits<double>::infinity();
               }) == "value: not a finite number");
    BOOST_TEST(with_change([](Reading& x) { x.ts = 253402300800000; }) ==
               "ts: outside the years 0001 to 9999");
    BOOST_TEST(with_change([](Reading& x) { x.value = 200; }) ==
               "value: 200 is out of range for temperature (-40 to 125)");
    BOOST_TEST(with_change([](Reading& x) { x.seq = -1; }) ==
               "seq: expected a non-negative integer");
    BOOST_TEST(with_change([](Reading& x) { x.label = "boom"; }) ==
               R"(label: unknown incident kind "boom")");
    BOOST_TEST(with_change([](Reading& x) { x.score = 2; }) ==
               "score: expected a number from 0 to 1");
    ParseOptions no_ranges;
    no_ranges.check_ranges = false;
    Reading hot = r;
    hot.value = 200;
    BOOST_TEST(iots::record::validate(hot, no_ranges) == "");
}
