// record::judge_clock and stamp_on_receipt (DESIGN §2, Clocks): a ts before 2000-01-01 or more
// than the allowed skew ahead of the receiving host's clock is a wrong clock.
#define BOOST_TEST_MODULE record_clock
#include "iotshield/record/clock.hpp"
#include "iotshield/record/parser.hpp"
#include "iotshield/record/serialize.hpp"

#include <boost/test/unit_test.hpp>

#include <vector>

using iots::core::Millis;
using iots::record::ClockAction;
using iots::record::ClockPolicy;
using iots::record::judge_clock;

namespace {
constexpr Millis kNow = 1796605183000; // 2026-12-07T00:59:43.000Z, the host's clock
constexpr Millis kDay = 86400000;
} // namespace

BOOST_AUTO_TEST_CASE(accepted_from_2000_up_to_the_skew_ahead_of_the_host) {
    const ClockPolicy policy; // 1 day
    struct Row {
        Millis ts;
        ClockAction action;
    };
    const std::vector<Row> rows = {
        {-5, ClockAction::reject},            // 1969-12-31T23:59:59.995Z: never synced
        {0, ClockAction::reject},             // 1970
        {946684799999, ClockAction::reject},  // 1999-12-31T23:59:59.999Z
        {946684800000, ClockAction::accept},  // 2000-01-01T00:00:00.000Z: the first accepted
        {1759708800000, ClockAction::accept}, // 2025-10-06, simulated history: the past is fine
        {kNow, ClockAction::accept},
        {kNow + 3600000, ClockAction::accept}, // an hour ahead
        {kNow + kDay, ClockAction::accept},    // exactly the skew ahead
        {kNow + kDay + 1, ClockAction::reject},
        {kNow + 2 * kDay, ClockAction::reject},
        {253402300799999, ClockAction::reject}, // 9999-12-31T23:59:59.999Z
    };
    for (const auto& row : rows) {
        BOOST_TEST_CONTEXT("ts " << row.ts) {
            const auto v = judge_clock(row.ts, kNow, policy);
            BOOST_TEST((v.action == row.action));
            BOOST_TEST(v.reason.empty() == (row.action == ClockAction::accept));
        }
    }
}

BOOST_AUTO_TEST_CASE(reasons_name_the_time_and_the_bound) {
    const ClockPolicy policy;
    BOOST_TEST(judge_clock(-5, kNow, policy).reason ==
               "ts: 1969-12-31T23:59:59.995Z is before 2000-01-01 (the node's clock is not set)");
    BOOST_TEST(judge_clock(946684799000, kNow, policy).reason ==
               "ts: 1999-12-31T23:59:59.000Z is before 2000-01-01 (the node's clock is not set)");
    BOOST_TEST(judge_clock(kNow + 2 * kDay, kNow, policy).reason ==
               "ts: 2026-12-09T00:59:43.000Z is more than 1d ahead of this host's clock");
    // The skew as given: 90 minutes.
    BOOST_TEST(judge_clock(kNow + 2 * 3600000, kNow, {.max_skew = 5400000}).reason ==
               "ts: 2026-12-07T02:59:43.000Z is more than 90m ahead of this host's clock");
}

BOOST_AUTO_TEST_CASE(the_skew_is_configurable_and_stamping_is_asked_for) {
    BOOST_TEST(
        (judge_clock(kNow + 2 * kDay, kNow, {.max_skew = 3 * kDay}).action == ClockAction::accept));
    BOOST_TEST((judge_clock(kNow + 1, kNow, {.max_skew = 0}).action == ClockAction::reject));
    const auto v = judge_clock(-5, kNow, {.stamp = true});
    BOOST_TEST((v.action == ClockAction::stamp));
    BOOST_TEST(!v.reason.empty());
    // A good clock is never stamped.
    BOOST_TEST((judge_clock(kNow, kNow, {.stamp = true}).action == ClockAction::accept));
}

BOOST_AUTO_TEST_CASE(a_stamped_reading_keeps_the_nodes_time_and_says_so) {
    iots::record::Reading r;
    r.ts = -5;
    r.device = "esp32-attic";
    r.sensor = "temperature";
    r.value = 19.5;
    r.extra = R"("rssi":-61)";
    BOOST_TEST(iots::record::stamp_on_receipt(r, kNow).empty());
    BOOST_TEST(r.ts == kNow);
    BOOST_TEST(
        iots::record::to_json(r) ==
        R"({"ts":"2026-12-07T00:59:43.000Z","device":"esp32-attic","sensor":"temperature",)"
        R"("value":19.5,"rssi":-61,"clock":"stamped","node_ts":"1969-12-31T23:59:59.995Z"})");
    // Without other members.
    iots::record::Reading plain;
    plain.ts = kNow + 2 * kDay;
    BOOST_TEST(iots::record::stamp_on_receipt(plain, kNow).empty());
    BOOST_TEST(plain.extra == R"("clock":"stamped","node_ts":"2026-12-09T00:59:43.000Z")");
}

BOOST_AUTO_TEST_CASE(a_reading_that_already_has_the_marks_is_not_stamped) {
    for (const char* extra : {R"("node_ts":"x")", R"("a":{"clock":1},"clock":"rtc")"}) {
        iots::record::Reading r;
        r.ts = 5;
        r.extra = extra;
        const auto why = iots::record::stamp_on_receipt(r, kNow);
        BOOST_TEST_CONTEXT(extra) {
            BOOST_TEST(why.starts_with("not stamped: it already has \""));
            BOOST_TEST(r.ts == 5); // unchanged
            BOOST_TEST(r.extra == extra);
        }
    }
    // A member named like it inside another one's value does not count.
    iots::record::Reading r;
    r.ts = 5;
    r.extra = R"("a":{"clock":1})";
    BOOST_TEST(iots::record::stamp_on_receipt(r, kNow).empty());
}

// A node whose clock has not synced sends no ts (iotshield(7)): the parser takes it only when
// asked (iots-ingest asks), and the reading is stamped with the time of receipt, marked.
BOOST_AUTO_TEST_CASE(a_reading_without_ts_is_stamped_on_receipt_when_allowed) {
    const std::string line = R"({"device":"esp32-a","sensor":"humidity","value":40,"seq":3})";
    iots::record::Reading r;
    iots::record::Parser strict;
    BOOST_TEST(!strict.parse(line, r));
    BOOST_TEST(strict.error() == "missing field \"ts\"");
    iots::record::ParseOptions o;
    o.allow_missing_ts = true;
    iots::record::Parser lenient(o);
    BOOST_REQUIRE(lenient.parse(line, r));
    BOOST_TEST(r.ts == iots::record::kMissingTs);
    BOOST_TEST(iots::record::stamp_missing_ts(r, kNow).empty());
    BOOST_TEST(r.ts == kNow);
    BOOST_TEST(iots::record::to_json(r) ==
               R"({"ts":"2026-12-07T00:59:43.000Z","device":"esp32-a","sensor":"humidity",)"
               R"("value":40,"seq":3,"clock":"stamped"})");
    // A ts that is there but wrong is still judged (and rejected) as before.
    BOOST_TEST(!lenient.parse(R"({"ts":"x","device":"a","sensor":"b","value":1})", r));
    iots::record::Reading marked;
    BOOST_REQUIRE(lenient.parse(R"({"device":"a","sensor":"b","value":1,"clock":"x"})", marked));
    BOOST_TEST(iots::record::stamp_missing_ts(marked, kNow) ==
               "not stamped: it already has \"clock\"");
}
