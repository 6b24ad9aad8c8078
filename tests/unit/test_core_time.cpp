// core::format_rfc3339 / parse_rfc3339 / days_from_civil. Expected epoch values come from Python's
// datetime (datetime.fromisoformat(s).timestamp() * 1000), written next to each row.
#define BOOST_TEST_MODULE core_time
#include "iotshield/core/time.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
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

using iots::core::format_rfc3339;
using iots::core::Millis;
using iots::core::parse_rfc3339;

BOOST_AUTO_TEST_CASE(format_known_instants) {
    struct Row {
        Millis ms;
        const char* text;
    };
    const std::vector<Row> rows = {
        {0, "1970-01-01T00:00:00.000Z"},
        {1, "1970-01-01T00:00:00.001Z"},
        {-1, "1969-12-31T23:59:59.999Z"}, // negative epoch: floor, not truncation
        {-1000, "1969-12-31T23:59:59.000Z"},
        {-86400000, "1969-12-31T00:00:00.000Z"}, // exactly one day before
        {-86400001, "1969-12-30T23:59:59.999Z"},
        {1761410712123, "2025-10-25T16:45:12.123Z"},
        {946684799999, "1999-12-31T23:59:59.999Z"}, // year boundary
        {946684800000, "2000-01-01T00:00:00.000Z"},
        {951782400000, "2000-02-29T00:00:00.000Z"}, // 2000: leap (divisible by 400)
        {1709164800000, "2024-02-29T00:00:00.000Z"},
        {4107542399999, "2100-02-28T23:59:59.999Z"}, // 2100: not a leap year
        {4107542400000, "2100-03-01T00:00:00.000Z"},
        {-2208988800000, "1900-01-01T00:00:00.000Z"},
        {-62135596800000, "0001-01-01T00:00:00.000Z"},
        {253402300799999, "9999-12-31T23:59:59.999Z"},
    };
    for (const auto& row : rows) {
        BOOST_TEST_CONTEXT("ms " << row.ms) {
            BOOST_TEST(format_rfc3339(row.ms) == row.text);
            char buf[24];
            format_rfc3339(row.ms, buf);
            BOOST_TEST(std::string(buf, sizeof buf) == row.text);
            BOOST_TEST(parse_rfc3339(row.text) == std::optional<Millis>(row.ms));
        }
    }
}

BOOST_AUTO_TEST_CASE(format_never_overflows_at_the_extremes) {
    // Outside 0000-9999 only the year is clamped; the point is: no UB, 24 characters, a 'Z'.
    for (const Millis ms : {std::numeric_limits<Millis>::min(), std::numeric_limits<Millis>::max(),
                            std::numeric_limits<Millis>::min() + 1, Millis{-62135596800001},
                            Millis{253402300800000}}) {
        const std::string s = format_rfc3339(ms);
        BOOST_TEST(s.size() == 24U);
        BOOST_TEST(s.back() == 'Z');
    }
}

BOOST_AUTO_TEST_CASE(parse_accepted_forms) {
    struct Row {
        const char* text;
        Millis ms;
    };
    const std::vector<Row> rows = {
        {"2025-10-25T16:45:12.123Z", 1761410712123},
        {"2025-10-25T16:45:12.123z", 1761410712123},
        {"2025-10-25t16:45:12.123Z", 1761410712123},
        {"2025-10-25 16:45:12.123Z", 1761410712123},
        {"2025-10-25T16:45:12Z", 1761410712000},
        {"2025-10-25T16:45:12.1Z", 1761410712100},
        {"2025-10-25T16:45:12.123456789Z", 1761410712123}, // truncated, not rounded
        {"2025-10-25T16:45:12.9999Z", 1761410712999},
        {"2025-10-25T16:45:12.123+02:00", 1761403512123}, // 16:45 at +02:00 is 14:45Z
        {"2025-10-25T16:45:12.123-05:30", 1761430512123}, // 16:45 at -05:30 is 22:15Z
        {"2025-10-25T16:45:12.123+00:00", 1761410712123},
        {"2025-10-25T16:45:12.123-00:00", 1761410712123},
        {"2025-10-25T23:59:60Z", 1761436799000},      // leap second folded onto :59
        {"2026-01-01T00:30:00+01:00", 1767223800000}, // crosses back into 2025 in UTC
        {"1970-01-01T00:00:00+14:00", -50400000},     // 14 h before the epoch
        {"1969-12-31T23:59:59.999Z", -1},
    };
    for (const auto& row : rows)
        BOOST_TEST_CONTEXT(row.text) {
            BOOST_TEST(parse_rfc3339(row.text) == std::optional<Millis>(row.ms));
        }
}

BOOST_AUTO_TEST_CASE(parse_rejected_forms) {
    for (const char* text : {"",
                             "2025",
                             "2025-10-25",
                             "2025-10-25T16:45:12",
                             "2025-10-25T16:45Z",
                             "2025-10-25T16:45:12.Z",
                             "2025-10-25T16:45:12.123",
                             "2025-10-25T16:45:12+02",
                             "2025-10-25T16:45:12+0200",
                             "2025-10-25T16:45:12+24:00",
                             "2025-10-25T16:45:12+02:60",
                             "2025-10-25T16:45:12ZZ",
                             "2025-10-25T16:45:12Z ",
                             " 2025-10-25T16:45:12Z",
                             "2025-13-01T00:00:00Z",
                             "2025-00-10T00:00:00Z",
                             "2025-10-00T00:00:00Z",
                             "2025-10-32T00:00:00Z",
                             "2025-02-29T00:00:00Z",
                             "1900-02-29T00:00:00Z",
                             "2025-04-31T00:00:00Z",
                             "2025-10-25T24:00:00Z",
                             "2025-10-25T23:60:00Z",
                             "2025-10-25T23:59:61Z",
                             "2025-10-25X16:45:12Z",
                             "2025/10/25T16:45:12Z",
                             "+2025-10-25T16:45:12Z",
                             "-2025-10-25T16:45:12Z",
                             "20251025T164512Z",
                             "2025-1-25T16:45:12Z",
                             "2025-10-25T16:45:1Z",
                             "２０２５-10-25T16:45:12Z"}) {
        BOOST_TEST_CONTEXT('"' << text << '"') {
            BOOST_TEST(!parse_rfc3339(text).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(days_from_civil_matches_known_dates) {
    BOOST_TEST(iots::core::days_from_civil(1970, 1, 1) == 0);
    BOOST_TEST(iots::core::days_from_civil(1969, 12, 31) == -1);
    BOOST_TEST(iots::core::days_from_civil(2000, 3, 1) ==
               11017); // 30 * 365 + 7 leap days (1972..1996) + 31 + 29
    BOOST_TEST(iots::core::days_from_civil(1, 1, 1) == -719162);
    BOOST_TEST(iots::core::days_from_civil(9999, 12, 31) == 2932896);
}

BOOST_AUTO_TEST_CASE(round_trip_over_random_instants) {
    // format then parse gives the same ms, over the whole supported range (years 0001-9999), and
    // a parse of a shifted offset form gives the same instant.
    std::mt19937_64 rng(1761410712123);
    std::uniform_int_distribution<Millis> any(-62135596800000, 253402300799999);
    std::uniform_int_distribution<Millis> near(-5000000000000, 5000000000000); // 1811..2128
    for (int i = 0; i < 20000; ++i) {
        const Millis ms = i % 2 ? any(rng) : near(rng);
        const std::string s = format_rfc3339(ms);
        BOOST_TEST_CONTEXT(ms << " " << s) {
            BOOST_TEST_REQUIRE(parse_rfc3339(s) == std::optional<Millis>(ms));
            // the same wall clock read as +01:00 is one hour earlier in UTC
            const std::string plus = s.substr(0, 23) + "+01:00";
            if (ms - 3600000 >= -62135596800000)
                BOOST_TEST_REQUIRE(parse_rfc3339(plus) == std::optional<Millis>(ms - 3600000));
        }
    }
}

BOOST_AUTO_TEST_CASE(now_is_after_this_code_was_written) {
    BOOST_TEST(iots::core::now_millis() > 1761410712123); // 2025-10-25
}
