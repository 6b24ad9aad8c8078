// The household keeps its routine by the local clock of its zone: on the days around the autumn
// change in Europe/Berlin (2025-10-26T01:00Z, +2 to +1) it wakes at the same local time as the
// same household (same seed) on a clock without daylight saving, so in UTC an hour later after the
// change than before it.
#define BOOST_TEST_MODULE sim_zone
#include "sim_test_util.hpp"

#include "iotshield/core/zone.hpp"

#include <boost/test/unit_test.hpp>

using namespace sim_test;
using iots::sim::Presence;

namespace {
constexpr Millis kOct20 = 1760918400000; // 2025-10-20T00:00:00Z, a Monday

// The local minute of the day (on `zone`'s clock) at which the household is first up after the
// instant `midnight` (asleep until then), within 14 hours.
int wake_minute(const iots::sim::Simulator& sim, Millis midnight, const iots::core::Zone& zone) {
    for (int m = 0; m < 14 * 60; ++m) {
        const Millis t = midnight + m * kMinute;
        if (sim.presence(t) != Presence::asleep) {
            const Millis local = zone.local(t);
            return static_cast<int>((local % kDay) / kMinute);
        }
    }
    return -1;
}
} // namespace

BOOST_AUTO_TEST_CASE(a_household_wakes_by_its_local_clock_on_both_sides_of_the_change) {
    auto utc_cfg = config(60000, 5);
    utc_cfg.start = kOct20;
    auto berlin_cfg = utc_cfg;
    berlin_cfg.zone = iots::core::Zone::named("Europe/Berlin");
    const iots::sim::Simulator utc(utc_cfg), berlin(berlin_cfg);
    int checked = 0;
    for (int d = 1; d < 12; ++d) { // local dates 2025-10-21 .. 2025-10-31
        const Millis utc_midnight = kOct20 + d * kDay;
        // Local midnight in Berlin: 22:00Z the day before under CEST, 23:00Z under CET.
        const Millis offset = utc_midnight < 1761440400000 ? 2 * kHour : kHour;
        const int clock = wake_minute(utc, utc_midnight, utc_cfg.zone);
        const int local = wake_minute(berlin, utc_midnight - offset, berlin_cfg.zone);
        BOOST_TEST_CONTEXT("day " << d) {
            BOOST_TEST(clock >= 5 * 60);
            BOOST_TEST(clock < 11 * 60);
            BOOST_TEST(local == clock);
        }
        ++checked;
    }
    BOOST_TEST(checked == 11);
}

// A fixed --utc-offset 1 is the same clock as Berlin in winter and an hour off in summer.
BOOST_AUTO_TEST_CASE(a_fixed_offset_has_no_daylight_saving) {
    auto fixed_cfg = config(60000, 5);
    fixed_cfg.start = kOct20;
    fixed_cfg.utc_offset_hours = 1;
    auto berlin_cfg = fixed_cfg;
    berlin_cfg.utc_offset_hours = 0;
    berlin_cfg.zone = iots::core::Zone::named("Europe/Berlin");
    const iots::sim::Simulator fixed(fixed_cfg), berlin(berlin_cfg);
    const Millis summer_midnight = kOct20 + 2 * kDay - 2 * kHour; // 2025-10-22 00:00 CEST
    const Millis winter_midnight = kOct20 + 9 * kDay - kHour;     // 2025-10-29 00:00 CET
    const iots::core::Zone utc;
    BOOST_TEST(wake_minute(berlin, winter_midnight, utc) ==
               wake_minute(fixed, winter_midnight, utc));
    // In summer the fixed clock reads an hour less: it wakes an hour later in UTC.
    BOOST_TEST(wake_minute(fixed, summer_midnight, utc) ==
               wake_minute(berlin, summer_midnight, utc) + 60);
}
