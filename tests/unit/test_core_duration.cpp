// core::parse_duration: "500ms", "5s", "30m", "2h", "14d", "1w"; a bare number is seconds.
#define BOOST_TEST_MODULE core_duration
#include "iotshield/core/duration.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <optional>
#include <vector>

// Boost.Test prints both sides of a failed comparison.
template <> struct boost::test_tools::tt_detail::print_log_value<std::optional<std::int64_t>> {
    void operator()(std::ostream& os, const std::optional<std::int64_t>& v) {
        if (v)
            os << *v;
        else
            os << "nullopt";
    }
};

using iots::core::parse_duration;

BOOST_AUTO_TEST_CASE(accepted_durations_in_milliseconds) {
    struct Row {
        const char* text;
        std::int64_t ms;
    };
    const std::vector<Row> rows = {
        {"0", 0},
        {"5", 5000}, // bare number: seconds
        {"5s", 5000},
        {"500ms", 500},
        {"1.5s", 1500},
        {"0.5ms", 1}, // rounds to the nearest millisecond (0.5 rounds away from zero)
        {"0.4ms", 0},
        {"30m", 1800000},          // 30 * 60 * 1000
        {"2min", 120000},          // 2 * 60 * 1000
        {"2h", 7200000},           // 2 * 3600 * 1000
        {"1.5h", 5400000},         // 1.5 * 3600 * 1000
        {"14d", 1209600000},       // 14 * 86400 * 1000
        {"30d", 2592000000},       // 30 * 86400 * 1000
        {"1w", 604800000},         // 7 * 86400 * 1000
        {"1e3s", 1000000},         // from_chars takes an exponent
        {"36500d", 3153600000000}, // a century: 36500 * 86400000
    };
    for (const auto& row : rows)
        BOOST_TEST_CONTEXT(row.text) {
            BOOST_TEST(parse_duration(row.text) == std::optional<std::int64_t>(row.ms));
        }
}

BOOST_AUTO_TEST_CASE(rejected_durations) {
    for (const char* text : {"",
                             "s",
                             "ms",
                             "-5s",
                             "-0.1s",
                             "5 s",
                             " 5s",
                             "5s ",
                             "5S",
                             "5sec",
                             "5y",
                             "1d2h",
                             "+5s",
                             "inf",
                             "nan",
                             "infs",
                             "1e400s",
                             "0x10s",
                             "9999999999999999999w",
                             "1e300ms",
                             "five",
                             "5..5s"}) {
        BOOST_TEST_CONTEXT('"' << text << '"') {
            BOOST_TEST(!parse_duration(text).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(formatted_in_the_largest_exact_unit_and_parsed_back) {
    using iots::core::format_duration;
    BOOST_TEST(format_duration(86400000) == "1d");
    BOOST_TEST(format_duration(2 * 604800000LL) == "2w");
    BOOST_TEST(format_duration(5400000) == "90m"); // 1.5 h: not whole hours
    BOOST_TEST(format_duration(3600000) == "1h");
    BOOST_TEST(format_duration(1500) == "1500ms");
    BOOST_TEST(format_duration(0) == "0ms");
    for (const std::int64_t ms : {0LL, 1LL, 999LL, 1000LL, 61000LL, 86400001LL, 604800000LL})
        BOOST_TEST(parse_duration(format_duration(ms)) == std::optional<std::int64_t>(ms));
}
