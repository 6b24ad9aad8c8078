// Incident grouping, severity, resolution and rate limiting on crafted streams.
#define BOOST_TEST_MODULE alert_incident
#include "iotshield/alert/incident.hpp"
#include "iotshield/alert/severity.hpp"

#include <boost/test/unit_test.hpp>

using namespace iots;
using namespace iots::alert;

namespace {

constexpr core::Millis kT0 = 1761410712000; // 2025-10-25T16:45:12Z
constexpr core::Millis kSec = 1000;
constexpr core::Millis kMin = 60 * kSec;

record::Reading reading(core::Millis ts, const std::string& device, const std::string& sensor,
                        double value, bool anomaly, double score = 0.8,
                        std::vector<std::string> reasons = {"iforest"}) {
    record::Reading r;
    r.ts = ts;
    r.device = device;
    r.sensor = sensor;
    r.value = value;
    r.anomaly = anomaly;
    r.score = score;
    if (anomaly)
        r.reasons = std::move(reasons);
    return r;
}

struct Run {
    IncidentTracker tracker;
    std::vector<Event> events;
    explicit Run(TrackerOptions o = {}) : tracker(o) {}
    void feed(const record::Reading& r, core::Millis wall = 0) { tracker.observe(r, wall, events); }
};

} // namespace

BOOST_AUTO_TEST_CASE(fire_on_three_sensors_is_one_incident_not_three_alerts) {
    TrackerOptions o;
    o.wall_clock = false;
    Run run(o);
    // Temperature first (score 0.8: MEDIUM), flame 10 s later (CRITICAL), gas 20 s later: one
    // incident, one open alert and one raise to CRITICAL, then nothing while it burns on.
    run.feed(reading(kT0, "kitchen-1", "temperature", 45, true, 0.8));
    run.feed(reading(kT0 + 10 * kSec, "kitchen-1", "flame", 1, true, 0.99, {"threshold:flame"}));
    run.feed(reading(kT0 + 20 * kSec, "kitchen-1", "gas", 1500, true, 0.97, {"threshold:gas"}));
    for (int i = 3; i < 30; ++i)
        run.feed(reading(kT0 + i * 10 * kSec, "kitchen-1", i % 2 ? "flame" : "gas",
                         i % 2 ? 1 : 2000, true, 0.99, {"threshold:flame"}));
    BOOST_REQUIRE_EQUAL(run.events.size(), 2u);
    BOOST_TEST((run.events[0].kind == EventKind::open));
    // temperature 45 C, score 0.8 >= 0.75: MEDIUM; one sensor so far, no duration bump.
    BOOST_TEST((run.events[0].incident.severity == Severity::medium));
    BOOST_TEST((run.events[1].kind == EventKind::raise));
    BOOST_TEST((run.events[1].incident.severity == Severity::critical));
    BOOST_TEST((run.events[1].previous == Severity::medium));
    BOOST_TEST(run.events[1].sensor == "flame");
    BOOST_TEST(run.events[0].incident.id == run.events[1].incident.id);
    BOOST_TEST(run.events[0].alert_id == run.events[0].incident.id + ".1");
    BOOST_TEST(run.events[1].alert_id == run.events[0].incident.id + ".2");
    BOOST_TEST(run.tracker.counters().incidents == 1u);
}

BOOST_AUTO_TEST_CASE(devices_have_separate_incidents) {
    TrackerOptions o;
    o.wall_clock = false;
    Run run(o);
    run.feed(reading(kT0, "a", "temperature", 35, true));
    run.feed(reading(kT0 + kSec, "b", "temperature", 35, true));
    BOOST_REQUIRE_EQUAL(run.events.size(), 2u);
    BOOST_TEST(run.events[0].incident.device == "a");
    BOOST_TEST(run.events[1].incident.device == "b");
    BOOST_TEST(run.tracker.open_incidents() == 2u);
}

BOOST_AUTO_TEST_CASE(resolves_after_quiet_period_by_stream_time) {
    TrackerOptions o;
    o.wall_clock = false;
    o.window_ms = 5 * kMin;
    o.quiet_ms = 5 * kMin;
    Run run(o);
    run.feed(reading(kT0, "a", "humidity", 90, true));
    run.feed(reading(kT0 + 1 * kMin, "a", "humidity", 91, true));
    // Normal readings (anomaly:false) advance time but do not join.
    run.feed(reading(kT0 + 3 * kMin, "a", "humidity", 50, false));
    run.feed(reading(kT0 + 5 * kMin, "a", "humidity", 50, false));
    BOOST_REQUIRE_EQUAL(run.events.size(), 1u); // last anomaly at +1 min: due at +6 min
    run.feed(reading(kT0 + 6 * kMin, "other", "humidity", 50, false)); // any device's clock
    BOOST_REQUIRE_EQUAL(run.events.size(), 2u);
    BOOST_TEST((run.events[1].kind == EventKind::resolve));
    BOOST_TEST(run.events[1].ts == kT0 + 6 * kMin); // last anomaly + quiet period
    BOOST_TEST(run.tracker.open_incidents() == 0u);
    // The next anomaly opens a new incident with a new id.
    run.feed(reading(kT0 + 7 * kMin, "a", "humidity", 92, true));
    BOOST_REQUIRE_EQUAL(run.events.size(), 3u);
    BOOST_TEST((run.events[2].kind == EventKind::open));
    BOOST_TEST(run.events[2].incident.id != run.events[0].incident.id);
}

BOOST_AUTO_TEST_CASE(a_gap_longer_than_the_window_starts_a_new_incident) {
    TrackerOptions o;
    o.wall_clock = false;
    o.window_ms = 1 * kMin;
    o.quiet_ms = 10 * kMin;
    Run run(o);
    run.feed(reading(kT0, "a", "light", 5000, true));
    run.feed(reading(kT0 + 3 * kMin, "a", "light", 5000, true)); // 3 min > window, < quiet
    BOOST_REQUIRE_EQUAL(run.events.size(), 3u);
    BOOST_TEST((run.events[1].kind == EventKind::resolve));
    BOOST_TEST(run.events[1].ts == kT0 + 3 * kMin);
    BOOST_TEST((run.events[2].kind == EventKind::open));
}

BOOST_AUTO_TEST_CASE(wall_clock_resolves_a_feed_that_went_silent) {
    TrackerOptions o;
    o.quiet_ms = 2 * kSec;
    Run run(o);
    const core::Millis wall = 5000000;
    run.feed(reading(kT0, "a", "gas", 400, true), wall);
    run.tracker.tick(wall + 1999, run.events);
    BOOST_REQUIRE_EQUAL(run.events.size(), 1u);
    run.tracker.tick(wall + 2000, run.events);
    BOOST_REQUIRE_EQUAL(run.events.size(), 2u);
    BOOST_TEST((run.events[1].kind == EventKind::resolve));
    BOOST_TEST(run.events[1].ts == kT0 + 2 * kSec);
}

BOOST_AUTO_TEST_CASE(wall_clock_off_for_replay) {
    TrackerOptions o;
    o.quiet_ms = 2 * kSec;
    o.wall_clock = false;
    Run run(o);
    run.feed(reading(kT0, "a", "gas", 400, true), 0);
    run.tracker.tick(1000000, run.events);
    BOOST_TEST(run.events.size() == 1u);
}

BOOST_AUTO_TEST_CASE(same_severity_never_alerts_again_rate_limit) {
    TrackerOptions o;
    o.wall_clock = false;
    o.policy.escalate_after_ms = 0; // no duration bump in this test
    Run run(o);
    // 500 anomalies of one sensor, 1 s apart, all MEDIUM: exactly one alert.
    for (int i = 0; i < 500; ++i)
        run.feed(reading(kT0 + i * kSec, "a", "humidity", 80, true, 0.8));
    BOOST_TEST(run.events.size() == 1u);
    BOOST_TEST(run.tracker.counters().joined == 499u);
}

BOOST_AUTO_TEST_CASE(severity_never_falls_within_an_incident) {
    TrackerOptions o;
    o.wall_clock = false;
    Run run(o);
    run.feed(reading(kT0, "a", "flame", 1, true, 0.99, {"threshold:flame"}));
    run.feed(reading(kT0 + kSec, "a", "flame", 0, true, 0.3, {"zscore"}));
    BOOST_REQUIRE_EQUAL(run.events.size(), 1u);
    BOOST_TEST((run.events[0].incident.severity == Severity::critical));
}

BOOST_AUTO_TEST_CASE(long_incident_escalates_one_level) {
    TrackerOptions o;
    o.wall_clock = false;
    o.policy.escalate_after_ms = 10 * kMin;
    Run run(o);
    // humidity score 0.5: LOW; after 10 minutes of anomalies: MEDIUM.
    for (int i = 0; i <= 10; ++i)
        run.feed(reading(kT0 + i * kMin, "a", "humidity", 85, true, 0.5));
    BOOST_REQUIRE_EQUAL(run.events.size(), 2u);
    BOOST_TEST((run.events[0].incident.severity == Severity::low));
    BOOST_TEST((run.events[1].kind == EventKind::raise));
    BOOST_TEST((run.events[1].incident.severity == Severity::medium));
    BOOST_TEST(run.events[1].ts == kT0 + 10 * kMin);
}

BOOST_AUTO_TEST_CASE(replay_gives_identical_events) {
    TrackerOptions o;
    o.wall_clock = false;
    std::vector<record::Reading> stream;
    for (int i = 0; i < 200; ++i)
        stream.push_back(reading(kT0 + i * 20 * kSec, i % 3 ? "a" : "b", "temperature", 20 + i % 7,
                                 i % 11 < 3, 0.7 + (i % 4) * 0.08));
    Run one(o), two(o);
    for (const auto& r : stream)
        one.feed(r, 1);
    for (const auto& r : stream)
        two.feed(r, 999999999);
    BOOST_REQUIRE_EQUAL(one.events.size(), two.events.size());
    BOOST_TEST(one.events.size() > 2u);
    for (std::size_t i = 0; i < one.events.size(); ++i) {
        BOOST_TEST(one.events[i].alert_id == two.events[i].alert_id);
        BOOST_TEST(one.events[i].ts == two.events[i].ts);
        BOOST_TEST((one.events[i].kind == two.events[i].kind));
    }
}

// The severity table of man/iots-alert.1.
BOOST_AUTO_TEST_CASE(severity_table) {
    const SeverityPolicy p;
    const auto sev = [&](const std::string& sensor, double v, double score,
                         std::vector<std::string> reasons) {
        return reading_severity(reading(kT0, "d", sensor, v, true, score, std::move(reasons)), p);
    };
    // Hazards: CRITICAL whatever the score or reasons.
    BOOST_TEST((sev("flame", 1, 0.1, {"stuck"}) == Severity::critical));
    BOOST_TEST((sev("gas", 1500, 0.1, {"spike"}) == Severity::critical)); // at the danger level
    BOOST_TEST(
        (sev("gas", 1499, 0.1, {"zscore"}) != Severity::critical)); // one level: below it, not
    BOOST_TEST((sev("temperature", 57, 0.1, {"zscore"}) == Severity::critical));
    BOOST_TEST((sev("gas", 999, 0.1, {"threshold:gas"}) == Severity::high));
    BOOST_TEST((sev("temperature", 40, 0.1, {"threshold:ror"}) == Severity::high));
    // Score: >= 0.9 HIGH, >= 0.75 MEDIUM, else LOW.
    BOOST_TEST((sev("humidity", 80, 0.9, {"iforest"}) == Severity::high));
    BOOST_TEST((sev("humidity", 80, 0.75, {"iforest"}) == Severity::medium));
    BOOST_TEST((sev("humidity", 80, 0.74, {"iforest"}) == Severity::low));
    // Kinds: gas and motion at least MEDIUM, light at most MEDIUM.
    BOOST_TEST((sev("gas", 400, 0.1, {"zscore"}) == Severity::medium));
    BOOST_TEST((sev("motion", 1, 0.1, {"iforest"}) == Severity::medium));
    BOOST_TEST((sev("light", 90000, 0.99, {"iforest"}) == Severity::medium));
    // Sensor faults: MEDIUM on a safety sensor, LOW elsewhere.
    BOOST_TEST((sev("gas", 120, 0.99, {"stuck"}) == Severity::medium));
    BOOST_TEST((sev("humidity", 50, 0.99, {"gap"}) == Severity::low));
    // Incident: +1 for duration, +1 for two or more sensors, never past HIGH by bumps.
    BOOST_TEST((incident_severity(Severity::low, 10 * kMin, 2, p) == Severity::high));
    BOOST_TEST((incident_severity(Severity::medium, 10 * kMin, 2, p) == Severity::high));
    BOOST_TEST((incident_severity(Severity::critical, 0, 1, p) == Severity::critical));
    BOOST_TEST((incident_severity(Severity::low, 9 * kMin, 1, p) == Severity::low));
    BOOST_TEST((parse_severity("critical") == Severity::critical));
    BOOST_TEST(!parse_severity("SEVERE"));
}

BOOST_AUTO_TEST_CASE(thresholds_are_options) {
    SeverityPolicy p;
    p.gas_danger_ppm = 500;
    p.heat_danger_c = 70;
    BOOST_TEST(is_hazard(reading(kT0, "d", "gas", 500, true), p));
    BOOST_TEST(!is_hazard(reading(kT0, "d", "temperature", 69.9, true), p));
}
