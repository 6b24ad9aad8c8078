// record::Parser's fast path (the plain shape the tools write, read without simdjson) against the
// full parser it stands in front of: for every line, the same verdict, the same reason and the same
// Reading (compared member by member and as re-serialised text, so -0 and 0 differ).
#define BOOST_TEST_MODULE record_fast_path
#include "iotshield/record/parser.hpp"
#include "iotshield/record/serialize.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

using iots::record::ParseOptions;
using iots::record::Parser;
using iots::record::Reading;

namespace {

ParseOptions reference_options(ParseOptions o = {}) {
    o.fast_path = false;
    return o;
}

struct Pair {
    explicit Pair(ParseOptions o = {}) : fast(o), full(reference_options(o)) {}
    Parser fast;
    Parser full;
    Reading a, b;
    std::size_t canonical = 0; // lines the fast path called canonical

    // Both parsers on one line; returns whether it was accepted. A line the fast path calls
    // canonical (passed on by iots-ingest as it came) must be exactly what append_json writes.
    bool check(const std::string& line) {
        const bool ok_fast = fast.parse(line, a);
        const bool ok_full = full.parse(line, b);
        BOOST_TEST_CONTEXT("line: " << line) {
            BOOST_TEST(ok_fast == ok_full);
            BOOST_TEST(fast.error() == full.error());
            BOOST_TEST(!full.canonical());
            if (ok_fast && ok_full) {
                BOOST_TEST((a == b));
                BOOST_TEST(std::signbit(a.value) == std::signbit(b.value));
                BOOST_TEST(iots::record::to_json(a) == iots::record::to_json(b));
                if (fast.canonical()) {
                    ++canonical;
                    BOOST_TEST(iots::record::to_json(a) == line);
                }
            } else {
                BOOST_TEST(!fast.canonical());
            }
        }
        return ok_full;
    }
};

const std::vector<std::string> kBase = {
    R"({"ts":"2025-10-06T00:00:00.007Z","device":"esp32-livingroom","sensor":"temperature","value":19.38,"unit":"C","seq":0,"location":"livingroom","label":"normal"})",
    R"({"ts":"2025-10-06T00:00:05.007Z","device":"esp32-kitchen","sensor":"gas","value":281.6,"unit":"ppm","seq":1042,"location":"kitchen","label":"gas-leak"})",
    R"({"ts":"2025-10-06T00:00:05.007Z","device":"esp32-kitchen","sensor":"flame","value":0,"unit":"0/1","seq":1043,"location":"kitchen","label":"normal"})",
    R"({"ts":"2025-10-25T16:45:12.123Z","device":"d1","sensor":"humidity","value":44.5})",
    R"({"ts":1761410712123,"device":"node_7.a-b","sensor":"co2","value":-12.5e2,"seq":9})",
    R"({"ts":"2025-10-25T16:45:12.123Z","device":"d1","sensor":"light","value":100000,"unit":"lux","location":"a room with spaces"})",
};

// Pieces that make a line awkward, invalid, or just take it off the fast path.
const std::vector<std::string> kFragments = {"\"",
                                             "\\",
                                             "\\u00e9",
                                             "\\ud800",
                                             "\\n",
                                             "\xc3\xa9",
                                             "\x01",
                                             " ",
                                             "\t",
                                             ",",
                                             ":",
                                             "}",
                                             "{",
                                             "[",
                                             "]",
                                             "NaN",
                                             "Infinity",
                                             "-0",
                                             "1e400",
                                             "0.1e1",
                                             "01",
                                             "-",
                                             ".",
                                             "e5",
                                             "E+2",
                                             "null",
                                             "true",
                                             "\"x\"",
                                             "\xff",
                                             "\xf0\x9f\x92\xa5",
                                             "\r",
                                             "123456789012345678901234",
                                             "\"ts\"",
                                             "\"device\"",
                                             "\"value\"",
                                             "\"seq\"",
                                             "\"unit\"",
                                             "\"label\"",
                                             "\"score\"",
                                             "\"device_id\"",
                                             "\"timestamp\""};

const std::vector<std::string> kValues = {"0",
                                          "-0",
                                          "-0.0",
                                          "0.0",
                                          "0e0",
                                          "1",
                                          "1.5",
                                          "-1.5",
                                          "1e2",
                                          "1E2",
                                          "1e+2",
                                          "1e-2",
                                          "12.345678901234567890",
                                          "123456789012345678",
                                          "9007199254740993",
                                          "1.0000000000000002",
                                          "0.1",
                                          "125",
                                          "125.0000001",
                                          "-40",
                                          "-40.000001",
                                          "100000",
                                          "1e5",
                                          "2.5e-308",
                                          "4.9e-324",
                                          "1e-400",
                                          "1e400",
                                          "NaN",
                                          "-Infinity",
                                          "\"25\"",
                                          "null",
                                          "true",
                                          "[]",
                                          "{}",
                                          "01",
                                          "1.",
                                          ".5",
                                          "+1",
                                          "- 1",
                                          "0x10",
                                          "19.38",
                                          "1e22",
                                          "1e23",
                                          "8.3e1",
                                          "3.14159265358979323846",
                                          "1.7976931348623157e308",
                                          "1.7976931348623159e308",
                                          "-00",
                                          "0.",
                                          "1e",
                                          "1e+",
                                          "22.299999999999997"};

const std::vector<std::string> kTimes = {R"("2025-10-25T16:45:12.123+02:00")",
                                         R"("2025-10-25T16:45:12Z")",
                                         R"("2025-10-25T16:45:12.123456Z")",
                                         R"("2025-02-29T00:00:00Z")",
                                         R"("9999-12-31T23:59:59.999Z")",
                                         R"("0001-01-01T00:00:00Z")",
                                         R"("0000-12-31T23:59:59Z")",
                                         "-62135596800001",
                                         "253402300799999",
                                         "253402300800000",
                                         R"("2025-10-25 16:45:12Z")",
                                         "1e12",
                                         R"("2025-10-25T16:45:12.123z")",
                                         "null",
                                         R"("x")",
                                         "0",
                                         "-0",
                                         "-1",
                                         "01",
                                         "1761410712123.0",
                                         "1761410712123.5",
                                         "9223372036854775807",
                                         "99999999999999999999",
                                         R"("2025-10-25T16:45:12.123Z ")",
                                         R"("")"};

const std::vector<std::string> kSeqs = {"-1",
                                        "0",
                                        "1.0",
                                        "1e3",
                                        "9223372036854775807",
                                        "9223372036854775808",
                                        "999999999999999",
                                        "1000000000000000",
                                        "01",
                                        "\"1\"",
                                        "null",
                                        "-0",
                                        "18446744073709551616"};

const std::vector<std::string> kTexts = {"normal",
                                         "fire",
                                         "FIRE",
                                         "",
                                         "xxxxxxxxxxxxxxxx",
                                         "xxxxxxxxxxxxxxxxx",
                                         std::string(32, 'y'),
                                         std::string(33, 'y'),
                                         std::string(64, 'z'),
                                         std::string(65, 'z'),
                                         std::string(128, 'w'),
                                         std::string(129, 'w'),
                                         "a b",
                                         "gas-leak",
                                         "sensor-dropout",
                                         "\xc3\xa9",
                                         "humidity",
                                         "flame",
                                         "motion",
                                         "light",
                                         "gas",
                                         "foo.bar-1_x",
                                         "a\\\"b",
                                         "a\\\\b",
                                         "a\\u0041",
                                         "a/b",
                                         "~",
                                         "\x7f",
                                         "tab\\there"};

std::string replace_value(const std::string& line, const std::string& key, const std::string& v) {
    const std::string k = "\"" + key + "\":";
    const auto at = line.find(k);
    if (at == std::string::npos)
        return line.substr(0, line.size() - 1) + "," + k + v + "}";
    auto end = at + k.size();
    if (line[end] == '"') {
        end = line.find('"', end + 1) + 1;
    } else {
        while (end < line.size() && line[end] != ',' && line[end] != '}')
            ++end;
    }
    return line.substr(0, at + k.size()) + v + line.substr(end);
}

} // namespace

BOOST_AUTO_TEST_CASE(the_tools_lines_take_the_fast_path) {
    Pair p;
    for (const auto& line : kBase)
        BOOST_TEST(p.check(line));
    BOOST_TEST(p.fast.fast_lines() == kBase.size());
    BOOST_TEST(p.full.fast_lines() == 0U);
    // iots-sim's lines (the first three) and a minimal one are canonical; an integer ts, an
    // exponent, a number to_chars writes as 1e+05 or members out of order are not.
    BOOST_TEST(p.canonical == 4U);
    for (const auto& line : kBase) {
        BOOST_TEST(p.fast.parse(line, p.a));
        BOOST_TEST(p.fast.canonical() == (iots::record::to_json(p.a) == line));
    }
    BOOST_TEST(
        !(p.fast.parse(R"({"device":"d1","ts":"2025-10-25T16:45:12.123Z","sensor":"x","value":1})",
                       p.a) &&
          p.fast.canonical()));
}

// Numbers near the rules of canonical text (shortest digits, at most 15 of them, fixed notation
// where to_chars prefers it, zero): a line called canonical is append_json's text (Pair::check),
// and some lines of each kind are.
BOOST_AUTO_TEST_CASE(canonical_numbers_are_append_json_text) {
    Pair p;
    for (const auto& v : {"0",
                          "-0",
                          "0.0",
                          "1",
                          "-1",
                          "10",
                          "100",
                          "1000",
                          "10000",
                          "100000",
                          "1000000",
                          "120000",
                          "1200000",
                          "12300000",
                          "0.1",
                          "0.01",
                          "0.001",
                          "0.0001",
                          "0.00012",
                          "0.000123",
                          "0.0000123",
                          "1.5",
                          "1.50",
                          "22.29",
                          "-22.29",
                          "123456789012345",
                          "1234567890123456",
                          "12345678901234.5",
                          "1234567890123.45",
                          "0.123456789012345",
                          "0.1234567890123456",
                          "999999999999999",
                          "100000000000000",
                          "1000000000000000",
                          "0.3",
                          "0.30000000000000004",
                          "5e-324",
                          "1e2",
                          "9007199254740993",
                          "2.5",
                          "-0.5",
                          "-0.0001",
                          "-100000",
                          "4.35",
                          "0.1e1",
                          "00",
                          "01",
                          "1.",
                          "17.000000000000001"})
        p.check(replace_value(kBase[0], "value", v));
    BOOST_TEST(p.canonical >= 15U);
    Pair q;
    std::mt19937 rng(18);
    std::uniform_int_distribution<int> digit(0, 9);
    for (int i = 0; i < 20000; ++i) {
        std::string v = rng() % 4 == 0 ? "-" : "";
        const int zeros = std::uniform_int_distribution<int>(0, 6)(rng);
        if (rng() % 3 == 0) {
            v += "0.";
            v.append(static_cast<std::size_t>(zeros), '0');
            const int n = std::uniform_int_distribution<int>(1, 17)(rng);
            for (int k = 0; k < n; ++k)
                v += static_cast<char>('0' + digit(rng));
        } else {
            const int whole = std::uniform_int_distribution<int>(1, 17)(rng);
            v += static_cast<char>('1' + digit(rng) % 9);
            for (int k = 1; k < whole; ++k)
                v += static_cast<char>(k + zeros >= whole ? '0' : '0' + digit(rng));
            const int decimals = std::uniform_int_distribution<int>(0, 4)(rng);
            if (decimals > 0)
                v += '.';
            for (int k = 0; k < decimals; ++k)
                v += static_cast<char>('0' + digit(rng));
        }
        q.check(replace_value(kBase[0], "value", v));
    }
    BOOST_TEST(q.canonical > 3000U);
    BOOST_TEST(q.canonical < 19000U);
}

BOOST_AUTO_TEST_CASE(listed_variants_agree) {
    Pair p;
    std::size_t accepted = 0, total = 0;
    for (const auto& base : kBase) {
        for (const auto& v : kValues)
            accepted += p.check(replace_value(base, "value", v)), ++total;
        for (const auto& t : kTimes)
            accepted += p.check(replace_value(base, "ts", t)), ++total;
        for (const auto& s : kSeqs)
            accepted += p.check(replace_value(base, "seq", s)), ++total;
        for (const auto& key : {"unit", "location", "label", "device", "sensor"})
            for (const auto& t : kTexts)
                accepted += p.check(replace_value(base, key, "\"" + t + "\"")), ++total;
        for (const auto& extra :
             {R"("privacy":{"mech":"laplace","epsilon":0.5})", R"("x":[1,2])", R"("score":0.25)",
              R"("anomaly":true)", R"("reasons":["zscore"])", R"("Device":"d2")",
              R"("device_id":"d9")", R"("timestamp":1700000000)", R"("a\nb":1)", R"("":1)"}) {
            const std::string tail = std::string(",") + extra + "}";
            accepted += p.check(base.substr(0, base.size() - 1) + tail), ++total;
            std::string head = "{"; // built with += (GCC 12 warns about "x" + std::string)
            head += extra;
            head += ',';
            head += base.substr(1);
            accepted += p.check(head), ++total;
        }
        // Whitespace, trailing text, truncation.
        for (const auto& tail : {" ", "\t", "\r", "x", "}", " {}", ",", "\n", "\r\n"})
            accepted += p.check(base + tail), ++total;
        for (std::size_t cut = 0; cut < base.size(); cut += 7)
            accepted += p.check(base.substr(0, cut)), ++total;
        for (std::size_t at = 1; at < base.size(); at += 5)
            accepted += p.check(base.substr(0, at) + " " + base.substr(at)), ++total;
    }
    // Both outcomes are well represented: neither side of the comparison is vacuous.
    BOOST_TEST(accepted > total / 5);
    BOOST_TEST(accepted < total * 4 / 5);
}

BOOST_AUTO_TEST_CASE(random_mutations_agree) {
    Pair p;
    ParseOptions loose;
    loose.check_ranges = false;
    loose.accept_legacy = false;
    Pair q(loose);
    std::mt19937 rng(20251025);
    const auto pick = [&](const auto& v) -> const auto& {
        return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
    };
    std::size_t accepted = 0;
    constexpr int kLines = 6000;
    for (int i = 0; i < kLines; ++i) {
        std::string line = pick(kBase);
        const int edits = std::uniform_int_distribution<int>(1, 3)(rng);
        for (int e = 0; e < edits; ++e) {
            switch (std::uniform_int_distribution<int>(0, 7)(rng)) {
            case 0: { // insert a fragment
                const auto at = std::uniform_int_distribution<std::size_t>(0, line.size())(rng);
                line.insert(at, pick(kFragments));
                break;
            }
            case 1: { // delete a few bytes
                if (line.empty())
                    break;
                const auto at = std::uniform_int_distribution<std::size_t>(0, line.size() - 1)(rng);
                line.erase(at, std::uniform_int_distribution<std::size_t>(1, 5)(rng));
                break;
            }
            case 2:
                line = replace_value(line, "value", pick(kValues));
                break;
            case 3:
                line = replace_value(line, "ts", pick(kTimes));
                break;
            case 4:
                line = replace_value(line, "seq", pick(kSeqs));
                break;
            case 5: {
                static const std::vector<std::string> keys = {"unit", "location", "label", "device",
                                                              "sensor"};
                line = replace_value(line, pick(keys), "\"" + pick(kTexts) + "\"");
                break;
            }
            case 6: { // a member twice, or a key moved to the front
                const auto comma = line.find(',');
                if (comma != std::string::npos && line.size() > 2)
                    line = line.substr(0, line.size() - 1) + "," + line.substr(1, comma - 1) + "}";
                break;
            }
            default: { // swap the first member to the end
                const auto comma = line.find(',');
                if (comma != std::string::npos && line.size() > 2 && line.back() == '}') {
                    std::string moved = "{";
                    moved += line.substr(comma + 1, line.size() - comma - 2);
                    moved += ',';
                    moved += line.substr(1, comma - 1);
                    moved += '}';
                    line = moved;
                }
                break;
            }
            }
        }
        accepted += p.check(line);
        q.check(line);
    }
    BOOST_TEST(accepted > kLines / 10);
    BOOST_TEST(p.fast.fast_lines() > 0U);
}

// The timestamp the fast path remembers from the previous line must not leak into the next.
BOOST_AUTO_TEST_CASE(repeated_and_changing_times_agree) {
    Pair p;
    const std::string a = kBase[0];
    for (const auto& t :
         {R"("2025-10-06T00:00:00.007Z")", R"("2025-10-06T00:00:00.007Z")",
          R"("2025-10-06T00:00:00.008Z")", R"("2025-10-06T00:00:00.007Z")",
          R"("2025-10-06T00:00:00.007+00:00")", R"("2025-10-06T00:00:00.007Z")", "1759708800007",
          R"("2025-10-06T00:00:00.0070Z")", R"("2025-10-06T00:00:00.007Z")"})
        BOOST_TEST(p.check(replace_value(a, "ts", t)));
    BOOST_TEST(p.fast.fast_lines() == 9U);
}

// Decimal values as sensors write them, up to 20 digits (past the exact-division shortcut) and
// with exponents: the same double as simdjson reads, to the bit.
BOOST_AUTO_TEST_CASE(random_decimal_values_agree) {
    Pair p;
    std::mt19937 rng(53);
    std::uniform_int_distribution<int> digit(0, 9);
    for (int i = 0; i < 4000; ++i) {
        std::string v = rng() % 4 == 0 ? "-" : "";
        if (rng() % 8 == 0) {
            v += '0'; // 0.xxx
        } else {
            const int whole = std::uniform_int_distribution<int>(1, 10)(rng);
            v += static_cast<char>('1' + digit(rng) % 9);
            for (int k = 1; k < whole; ++k)
                v += static_cast<char>('0' + digit(rng));
        }
        const int decimals = std::uniform_int_distribution<int>(0, 12)(rng);
        if (decimals > 0) {
            v += '.';
            for (int k = 0; k < decimals; ++k)
                v += static_cast<char>('0' + digit(rng));
        }
        if (rng() % 10 == 0) {
            v += 'e';
            v += std::to_string(std::uniform_int_distribution<int>(-30, 30)(rng));
        }
        BOOST_TEST(p.check(replace_value(kBase[4], "value", v))); // a generic series: no range
    }
    BOOST_TEST(p.fast.fast_lines() == 4000U);
}
