// core::Zone: IANA zones from the system tz database, daylight saving included, and the local
// hour / weekday helpers. Epoch values from Python's datetime
// (datetime.fromisoformat(s).replace(tzinfo=timezone.utc).timestamp() * 1000), written next to
// each.
#define BOOST_TEST_MODULE core_zone
#include "iotshield/core/error.hpp"
#include "iotshield/core/zone.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

using iots::Error;
using iots::Exit;
using iots::core::local_hour;
using iots::core::local_minute_of_week;
using iots::core::local_weekday;
using iots::core::Millis;
using iots::core::Zone;

namespace {
constexpr Millis kHour = 3'600'000;
constexpr Millis kMinute = 60'000;

// Restores $TZ at scope exit.
struct TzGuard {
    std::string saved;
    bool had;
    TzGuard() : had(std::getenv("TZ") != nullptr) {
        if (had)
            saved = std::getenv("TZ");
    }
    ~TzGuard() {
        if (had)
            ::setenv("TZ", saved.c_str(), 1);
        else
            ::unsetenv("TZ");
    }
    TzGuard(const TzGuard&) = delete;
    TzGuard& operator=(const TzGuard&) = delete;
};
} // namespace

BOOST_AUTO_TEST_CASE(utc_is_the_default_and_has_no_offset) {
    const Zone z;
    BOOST_TEST(z.name() == "UTC");
    BOOST_TEST(z.offset_s(1761440400000) == 0);
    const Zone u = Zone::named("UTC");
    BOOST_TEST(u.name() == "UTC");
    BOOST_TEST(u.offset_s(1743296400000) == 0);
    BOOST_TEST(u.local(1761429600000) == 1761429600000);
    BOOST_TEST(Zone::named("Etc/UTC").offset_s(1761429600000) == 0);
}

BOOST_AUTO_TEST_CASE(berlin_across_both_2025_changes) {
    const Zone z = Zone::named("Europe/Berlin");
    BOOST_TEST(z.name() == "Europe/Berlin");
    // Spring: 2025-03-30T01:00Z (02:00 CET becomes 03:00 CEST) = 1743296400000.
    const Millis spring = 1743296400000;
    BOOST_TEST(z.offset_s(spring - 1) == 3600);
    BOOST_TEST(z.offset_s(spring) == 7200);
    BOOST_TEST(local_hour(z.local(spring - 1)) == 1); // 01:59:59.999 CET
    BOOST_TEST(local_hour(z.local(spring)) == 3);     // 03:00 CEST: 02:00 never happens
    // Autumn: 2025-10-26T01:00Z (03:00 CEST becomes 02:00 CET) = 1761440400000.
    const Millis autumn = 1761440400000;
    BOOST_TEST(z.offset_s(autumn - 1) == 7200);
    BOOST_TEST(z.offset_s(autumn) == 3600);
    BOOST_TEST(local_hour(z.local(autumn - 1)) == 2); // 02:59:59.999 CEST
    BOOST_TEST(local_hour(z.local(autumn)) == 2);     // 02:00 CET: the hour happens twice
    // 07:00 local is 06:00Z the day before spring (1743228000000) and 05:00Z on the day of it
    // (1743310800000); likewise 05:00Z on 2025-10-25 (1761368400000), 06:00Z on 2025-10-26.
    BOOST_TEST(local_hour(z.local(1743228000000)) == 7);
    BOOST_TEST(local_hour(z.local(1743310800000)) == 7);
    BOOST_TEST(local_hour(z.local(1761368400000)) == 7);
    BOOST_TEST(local_hour(z.local(1761458400000)) == 7);
    // Going back in time after the cache holds a later period.
    BOOST_TEST(z.offset_s(spring - 1) == 3600);
}

BOOST_AUTO_TEST_CASE(sydney_has_its_summer_in_january) {
    const Zone z = Zone::named("Australia/Sydney");
    // 2025-01-15T13:30Z = 1736947800000: AEDT, +11.
    BOOST_TEST(z.offset_s(1736947800000) == 11 * 3600);
    // DST ends 2025-04-06 03:00 AEDT = 2025-04-05T16:00Z = 1743868800000.
    BOOST_TEST(z.offset_s(1743868800000 - 1) == 11 * 3600);
    BOOST_TEST(z.offset_s(1743868800000) == 10 * 3600);
    // DST starts 2025-10-05 02:00 AEST = 2025-10-04T16:00Z = 1759593600000.
    BOOST_TEST(z.offset_s(1759593600000 - 1) == 10 * 3600);
    BOOST_TEST(z.offset_s(1759593600000) == 11 * 3600);
    // 2025-10-25T22:00Z = 1761429600000 is Sunday 09:00 in Sydney (+11), Saturday in UTC.
    BOOST_TEST(local_weekday(z.local(1761429600000)) == 6);
    BOOST_TEST(local_hour(z.local(1761429600000)) == 9);
    BOOST_TEST(local_weekday(Zone{}.local(1761429600000)) == 5);
}

BOOST_AUTO_TEST_CASE(half_hour_zones) {
    const Zone k = Zone::named("Asia/Kolkata");
    // 2025-06-01T18:30Z = 1748802600000 is Monday 2025-06-02 00:00 IST (+5:30).
    const Millis midnight = 1748802600000;
    BOOST_TEST(k.offset_s(midnight) == 19800);
    BOOST_TEST(local_hour(k.local(midnight - 1)) == 23);
    BOOST_TEST(local_weekday(k.local(midnight - 1)) == 6); // Sunday
    BOOST_TEST(local_hour(k.local(midnight)) == 0);
    BOOST_TEST(local_weekday(k.local(midnight)) == 0); // Monday
    BOOST_TEST(local_minute_of_week(k.local(midnight - 1)) == 6 * 1440 + 1439);
    BOOST_TEST(local_minute_of_week(k.local(midnight)) == 0);
    // Adelaide: +10:30 in its summer (2025-01-15T13:30Z is 00:00 on Thursday the 16th there).
    const Zone a = Zone::named("Australia/Adelaide");
    BOOST_TEST(a.offset_s(1736947800000) == 37800);
    BOOST_TEST(local_hour(a.local(1736947800000)) == 0);
    BOOST_TEST(local_weekday(a.local(1736947800000)) == 3);
    BOOST_TEST(local_weekday(a.local(1736947800000 - 1)) == 2);
}

BOOST_AUTO_TEST_CASE(helpers_at_local_midnight) {
    const Zone z = Zone::named("Europe/Berlin");
    // 2025-10-25T22:00Z = 1761429600000 is Sunday 2025-10-26 00:00 CEST (+2).
    const Millis sunday = 1761429600000;
    BOOST_TEST(local_weekday(z.local(sunday - 1)) == 5); // Saturday 23:59:59.999
    BOOST_TEST(local_hour(z.local(sunday - 1)) == 23);
    BOOST_TEST(local_weekday(z.local(sunday)) == 6);
    BOOST_TEST(local_hour(z.local(sunday)) == 0);
    BOOST_TEST(local_minute_of_week(z.local(sunday)) == 6 * 1440);
    // The next local midnight is 25 hours later (the autumn change falls in that day): Monday.
    const Millis monday = sunday + 25 * kHour;
    BOOST_TEST(local_weekday(z.local(monday - 1)) == 6);
    BOOST_TEST(local_minute_of_week(z.local(monday - 1)) == 6 * 1440 + 1439);
    BOOST_TEST(local_weekday(z.local(monday)) == 0);
    BOOST_TEST(local_minute_of_week(z.local(monday)) == 0);
    BOOST_TEST(local_minute_of_week(z.local(monday + 90 * kMinute)) == 90);
    // Before 1970 the helpers still count from Monday: 1969-12-31 was a Wednesday.
    BOOST_TEST(local_weekday(-1) == 2);
    BOOST_TEST(local_hour(-1) == 23);
}

BOOST_AUTO_TEST_CASE(unknown_names_are_usage_errors) {
    for (const char* name : {"Mars/Olympus_Mons", "", "../../etc/passwd", "Europe/berlin"}) {
        try {
            (void)Zone::named(name);
            BOOST_ERROR("no error for " << name);
        } catch (const Error& e) {
            BOOST_TEST((e.code() == Exit::usage));
            BOOST_TEST(std::string(e.what()).find("unknown time zone") != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(from_environment_reads_tz) {
    const TzGuard guard;
    ::unsetenv("TZ");
    BOOST_TEST(Zone::from_environment().name() == "UTC");
    ::setenv("TZ", "", 1);
    BOOST_TEST(Zone::from_environment().name() == "UTC");
    ::setenv("TZ", "Australia/Sydney", 1);
    BOOST_TEST(Zone::from_environment().name() == "Australia/Sydney");
    ::setenv("TZ", ":Europe/Berlin", 1);
    BOOST_TEST(Zone::from_environment().name() == "Europe/Berlin");
    // A path into the tz database (TZ=:/etc/localtime is the common one).
    ::setenv("TZ", ":/usr/share/zoneinfo/Asia/Kolkata", 1);
    BOOST_TEST(Zone::from_environment().name() == "Asia/Kolkata");
    ::setenv("TZ", ":/etc/passwd", 1);
    BOOST_CHECK_THROW((void)Zone::from_environment(), Error);
    ::setenv("TZ", "CET-1CEST", 1);
    try {
        (void)Zone::from_environment();
        BOOST_ERROR("no error for TZ=CET-1CEST");
    } catch (const Error& e) {
        BOOST_TEST((e.code() == Exit::usage));
        BOOST_TEST(std::string(e.what()).rfind("TZ: ", 0) == 0);
    }
}

// The cached period against a fresh zone per query (no cache state), in random order, with
// copies taken mid-way: a copy answers like the original.
BOOST_AUTO_TEST_CASE(cache_agrees_with_fresh_lookups) {
    std::mt19937_64 rng(12);
    const Millis from = 1704067200000; // 2024-01-01T00:00Z
    const Millis span = 3LL * 365 * 24 * kHour;
    std::uniform_int_distribution<Millis> pick(0, span);
    for (const char* name : {"Europe/Berlin", "Australia/Sydney", "America/New_York"}) {
        Zone z = Zone::named(name);
        Millis ts = from;
        for (int i = 0; i < 4000; ++i) {
            // Mostly small steps forwards and back (a stream), sometimes a jump.
            ts =
                i % 50 == 0 ? from + pick(rng) : ts + static_cast<Millis>(rng() % 7200000) - 600000;
            const Zone fresh = Zone::named(name);
            BOOST_TEST_REQUIRE(z.offset_s(ts) == fresh.offset_s(ts), name << " at " << ts);
            if (i == 2000) {
                const Zone copy = z;
                BOOST_TEST(copy.offset_s(ts) == fresh.offset_s(ts));
                BOOST_TEST((copy == z));
                z = copy;
            }
        }
    }
}
