// record::append_json / JsonWriter and append_number against plain references: numbers exactly as
// std::to_chars prints them (shortest round trip), readings exactly as a straightforward
// std::string builder writes them.
#define BOOST_TEST_MODULE record_serialize
#include "iotshield/record/serialize.hpp"

#include <boost/test/unit_test.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

using iots::record::Reading;

namespace {

std::string reference_number(double v) {
    if (!std::isfinite(v))
        return "null";
    char buf[64];
    const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
    BOOST_REQUIRE(ec == std::errc{});
    return {buf, static_cast<std::size_t>(ptr - buf)};
}

std::string number(double v) {
    std::string out;
    iots::record::append_number(v, out);
    return out;
}

void reference_string(std::string_view s, std::string& out) {
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"')
            out += "\\\"";
        else if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '\r')
            out += "\\r";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\b')
            out += "\\b";
        else if (c == '\f')
            out += "\\f";
        else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            out += buf;
        } else
            out += ch;
    }
    out += '"';
}

// DESIGN §2 key order: ts, device, sensor, value, unit, seq, location, label, score, anomaly,
// reasons (present with score or anomaly), then the passed-through members.
std::string reference_json(const Reading& r) {
    std::string out = "{\"ts\":\"" + iots::core::format_rfc3339(r.ts) + "\",\"device\":";
    reference_string(r.device, out);
    out += ",\"sensor\":";
    reference_string(r.sensor, out);
    out += ",\"value\":" + reference_number(r.value);
    if (!r.unit.empty()) {
        out += ",\"unit\":";
        reference_string(r.unit, out);
    }
    if (r.seq)
        out += ",\"seq\":" + std::to_string(*r.seq);
    if (!r.location.empty()) {
        out += ",\"location\":";
        reference_string(r.location, out);
    }
    if (!r.label.empty()) {
        out += ",\"label\":";
        reference_string(r.label, out);
    }
    if (r.score)
        out += ",\"score\":" + reference_number(*r.score);
    if (r.anomaly)
        out += *r.anomaly ? ",\"anomaly\":true" : ",\"anomaly\":false";
    if (r.score || r.anomaly || !r.reasons.empty()) {
        out += ",\"reasons\":[";
        for (std::size_t i = 0; i < r.reasons.size(); ++i) {
            if (i > 0)
                out += ',';
            reference_string(r.reasons[i], out);
        }
        out += ']';
    }
    if (!r.extra.empty())
        out += "," + r.extra;
    out += '}';
    return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(listed_numbers_print_as_to_chars) {
    const double max = std::numeric_limits<double>::max();
    const double min = std::numeric_limits<double>::min();
    const double denorm = std::numeric_limits<double>::denorm_min();
    const std::vector<double> values = {0.0,
                                        -0.0,
                                        1,
                                        -1,
                                        0.1,
                                        0.2,
                                        0.3,
                                        0.1 + 0.2,
                                        19.38,
                                        44.5,
                                        281.6,
                                        -40,
                                        125,
                                        100,
                                        1000,
                                        10000,
                                        100000,
                                        1e6,
                                        1e7,
                                        123456,
                                        1234567,
                                        0.001,
                                        0.0001,
                                        0.00001,
                                        1.5e-5,
                                        0.00012,
                                        0.000123,
                                        1e-6,
                                        1e-7,
                                        1e-8,
                                        1.25e-8,
                                        0.12345678,
                                        0.123456789,
                                        99999999999999.9,
                                        999999999999999,
                                        1e15,
                                        1e15 + 1,
                                        1e16,
                                        9007199254740993.0,
                                        4503599627370497.5,
                                        1e21,
                                        1e22,
                                        1e23,
                                        5e-324,
                                        denorm,
                                        min,
                                        max,
                                        -max,
                                        1.0 / 3,
                                        2.0 / 3,
                                        0.16666666666666669,
                                        22.299999999999997,
                                        1e100,
                                        1e-100,
                                        123.456,
                                        -0.5,
                                        0.5,
                                        12345678.9,
                                        1234567.89,
                                        99.99999999,
                                        0.99999999,
                                        9.999999999999999,
                                        0.30000000000000004,
                                        1.1,
                                        2.675,
                                        1.005};
    for (const double v : values)
        BOOST_TEST(number(v) == reference_number(v), v);
    BOOST_TEST(number(std::nan("")) == "null");
    BOOST_TEST(number(-std::numeric_limits<double>::infinity()) == "null");
}

// Sensor-like decimals (where the fast formatting applies) and arbitrary doubles (where it must
// step aside): 600,000 comparisons with std::to_chars.
BOOST_AUTO_TEST_CASE(random_numbers_print_as_to_chars) {
    std::mt19937_64 rng(42);
    std::size_t mismatches = 0;
    const auto check = [&](double v) {
        if (number(v) != reference_number(v) && ++mismatches <= 10)
            BOOST_TEST(number(v) == reference_number(v), v);
    };
    for (int i = 0; i < 100000; ++i) {
        // m / 10^k for m up to 10^digits: what sensors and the simulator write.
        const int digits = std::uniform_int_distribution<int>(1, 17)(rng);
        const int k = std::uniform_int_distribution<int>(0, 12)(rng);
        const auto m = std::uniform_int_distribution<std::uint64_t>(
            0, static_cast<std::uint64_t>(std::pow(10.0, digits)))(rng);
        const double v = static_cast<double>(m) / std::pow(10.0, k);
        check(v);
        check(-v);
        check(std::nextafter(v, 1e300));
        // Arbitrary bit patterns, and values in [0, 1] (scores).
        const std::uint64_t bits = rng();
        double b = 0;
        std::memcpy(&b, &bits, sizeof b);
        check(b);
        check(std::uniform_real_distribution<double>(0, 1)(rng));
        check(std::uniform_real_distribution<double>(-50, 150)(rng));
    }
    BOOST_TEST(mismatches == 0U);
}

BOOST_AUTO_TEST_CASE(readings_serialise_as_the_reference) {
    Reading r;
    r.ts = 1761410712123;
    r.device = "esp32-livingroom";
    r.sensor = "temperature";
    r.value = 25.31;
    BOOST_TEST(iots::record::to_json(r) == reference_json(r));
    r.unit = "C";
    r.seq = 1042;
    r.location = "living room \"north\"\\\n\t\x01\x1f\x7f\xc3\xa9";
    r.label = "normal";
    BOOST_TEST(iots::record::to_json(r) == reference_json(r));
    r.score = 0.16666666666666669;
    r.anomaly = false;
    BOOST_TEST(iots::record::to_json(r) == reference_json(r));
    r.anomaly = true;
    r.reasons = {"threshold:flame", "zscore", "a\"b"};
    r.extra = R"("privacy":{"mech":"laplace","epsilon":0.5},"x":[1,2])";
    BOOST_TEST(iots::record::to_json(r) == reference_json(r));
    r.score.reset();
    r.anomaly.reset();
    BOOST_TEST(iots::record::to_json(r) == reference_json(r)); // reasons alone still listed
    r.reasons.clear();
    r.extra = std::string(5000, 'x'); // past the writer's stack buffer
    r.extra = "\"big\":\"" + r.extra + "\"";
    BOOST_TEST(iots::record::to_json(r) == reference_json(r));
    r.device = std::string(300, '\x01'); // escapes six times longer than the text
    BOOST_TEST(iots::record::to_json(r) == reference_json(r));
    std::string s;
    iots::record::append_json_string(r.location, s);
    std::string ref;
    reference_string(r.location, ref);
    BOOST_TEST(s == ref);
}

// One writer over a stream: the remembered timestamp text follows every change of time.
BOOST_AUTO_TEST_CASE(a_writer_over_a_stream_matches_the_reference) {
    iots::record::JsonWriter writer;
    std::mt19937_64 rng(7);
    Reading r;
    r.device = "d1";
    r.sensor = "humidity";
    std::string out;
    for (int i = 0; i < 2000; ++i) {
        if (std::uniform_int_distribution<int>(0, 2)(rng) == 0)
            r.ts =
                std::uniform_int_distribution<std::int64_t>(-62135596800000, 253402300799999)(rng);
        r.value = static_cast<double>(std::uniform_int_distribution<int>(0, 10000)(rng)) / 100;
        r.seq = i;
        out.clear();
        writer.append(r, out);
        BOOST_TEST(out == reference_json(r));
        std::vector<char> buf(iots::record::JsonWriter::max_size(r));
        const char* const begin = buf.data();
        const char* end = writer.write(r, buf.data());
        BOOST_TEST(std::string(begin, end) == out);
    }
    // The bound holds at its worst (every byte escaped as \u00XX, the longest numbers): written
    // into exactly max_size bytes, which the sanitizer build checks.
    r.device = std::string(64, '\x01');
    r.sensor = std::string(64, '\x1f');
    r.unit = std::string(16, '\x02');
    r.location = std::string(128, '\x03');
    r.label = std::string(32, '\x04');
    r.value = -1.2345678901234567e-300;
    r.score = 2.2250738585072014e-308;
    r.anomaly = false;
    r.seq = std::numeric_limits<std::int64_t>::min();
    r.ts = std::numeric_limits<std::int64_t>::min();
    r.reasons = {std::string(64, '\x05'), std::string(64, '\x06')};
    r.extra = R"("x":1)";
    std::vector<char> exact(iots::record::JsonWriter::max_size(r));
    const char* const begin = exact.data();
    const char* end = writer.write(r, exact.data());
    BOOST_TEST(static_cast<std::size_t>(end - begin) <= exact.size());
    BOOST_TEST(std::string(begin, end) == reference_json(r));
}

// Strings escaped eight bytes a step: escapes at every position of a block and in the tail.
BOOST_AUTO_TEST_CASE(random_strings_escape_as_the_reference) {
    std::mt19937 rng(11);
    const std::string alphabet =
        std::string("abcXYZ019 _-./~\x7f\xc3\xa9\"\\\n\r\t\b\f\x01\x1f") + std::string(1, '\0');
    Reading r;
    r.device = "d";
    r.sensor = "s";
    for (int i = 0; i < 3000; ++i) {
        const auto n = std::uniform_int_distribution<std::size_t>(0, 40)(rng);
        std::string s;
        for (std::size_t k = 0; k < n; ++k)
            s += rng() % 4 == 0 ? alphabet[rng() % alphabet.size()]
                                : static_cast<char>('a' + k % 26);
        std::string out, ref;
        iots::record::append_json_string(s, out);
        reference_string(s, ref);
        BOOST_TEST(out == ref);
        r.location = s;
        BOOST_TEST(iots::record::to_json(r) == reference_json(r));
    }
}
