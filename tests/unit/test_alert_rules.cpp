// The rules narrator's words and the alert record.
#define BOOST_TEST_MODULE alert_rules
#include "iotshield/alert/alert.hpp"
#include "iotshield/alert/rules.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

using namespace iots;
using namespace iots::alert;

namespace {
constexpr core::Millis kT0 = 1761410712000; // 2025-10-25T16:45:12.000Z

std::vector<Event> feed(const std::vector<record::Reading>& rs) {
    TrackerOptions o;
    o.wall_clock = false;
    IncidentTracker t(o);
    std::vector<Event> ev;
    for (const auto& r : rs)
        t.observe(r, 0, ev);
    return ev;
}

record::Reading r(core::Millis ts, std::string sensor, double v, std::vector<std::string> why,
                  double score = 0.95, std::string location = "kitchen") {
    record::Reading x;
    x.ts = ts;
    x.device = "esp32-kitchen";
    x.sensor = std::move(sensor);
    x.value = v;
    x.anomaly = true;
    x.score = score;
    x.reasons = std::move(why);
    x.location = std::move(location);
    return x;
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}
} // namespace

BOOST_AUTO_TEST_CASE(fire_text_has_values_ranges_and_a_concrete_suggestion) {
    const auto ev = feed({r(kT0, "flame", 1, {"threshold:flame"}),
                          r(kT0 + 5000, "temperature", 68.24, {"threshold:heat"}),
                          r(kT0 + 9000, "gas", 1550, {"threshold:gas"})});
    BOOST_REQUIRE_EQUAL(ev.size(), 1u); // CRITICAL from the first reading: nothing to raise
    const Text t = narrate(ev[0], SeverityPolicy{}, 5 * 60000);
    BOOST_TEST(t.title == "Fire detected in the kitchen");
    BOOST_TEST(contains(t.description, "flame sensor sees an open flame in the kitchen"));
    BOOST_TEST(contains(t.description, "flame 1 (normal 0)"));
    BOOST_TEST(contains(t.suggestion, "call the fire brigade"));
    // Later readings join the incident; the event snapshot is taken when the alert is raised.
    BOOST_TEST(!contains(t.description, "1550 ppm"));
    BOOST_TEST(t.title.size() <= 80u);
}

BOOST_AUTO_TEST_CASE(raise_text_names_both_severities_and_all_readings) {
    const auto ev = feed({r(kT0, "temperature", 45, {"iforest"}, 0.8),
                          r(kT0 + 60000, "gas", 1550, {"threshold:gas"})});
    BOOST_REQUIRE_EQUAL(ev.size(), 2u);
    const Text t = narrate(ev[1], SeverityPolicy{}, 5 * 60000);
    // temperature 45 (>= 0.8 * 57 = 45.6? no: 45 < 45.6) and gas 1550 >= 1500: dangerous gas.
    BOOST_TEST(t.title == "Dangerous gas level in the kitchen");
    BOOST_TEST(contains(t.description, "Severity raised from MEDIUM to CRITICAL."));
    BOOST_TEST(contains(t.description, "temperature 45.0 °C (normal 16 to 28 °C)"));
    BOOST_TEST(contains(t.description, "gas 1550 ppm (normal up to 300 ppm)"));
    BOOST_TEST(contains(t.description, "Device esp32-kitchen."));
    BOOST_TEST(contains(t.suggestion, "Do not switch lights"));
}

BOOST_AUTO_TEST_CASE(patterns_per_sensor_kind) {
    const SeverityPolicy p;
    const auto title = [&](record::Reading x) {
        auto ev = feed({std::move(x)});
        return narrate(ev.at(0), p, 300000).title;
    };
    BOOST_TEST(title(r(kT0, "temperature", 8, {"zscore"}, 0.8, "")) ==
               "Unusually low temperature on device esp32-kitchen");
    BOOST_TEST(title(r(kT0, "temperature", 33, {"zscore"})) ==
               "Unusually high temperature in the kitchen");
    BOOST_TEST(title(r(kT0, "temperature", 60, {"threshold:heat"})) ==
               "Dangerous heat in the kitchen");
    BOOST_TEST(title(r(kT0, "humidity", 85, {"zscore"})) == "High humidity in the kitchen");
    BOOST_TEST(title(r(kT0, "humidity", 15, {"zscore"})) == "Very dry air in the kitchen");
    BOOST_TEST(title(r(kT0, "motion", 1, {"iforest"})) == "Unexpected motion in the kitchen");
    BOOST_TEST(title(r(kT0, "light", 20000, {"iforest"})) == "Unusual light in the kitchen");
    BOOST_TEST(title(r(kT0, "gas", 420, {"zscore"})) == "Gas level rising in the kitchen");
    BOOST_TEST(title(r(kT0, "co2", 2100, {"zscore"})) == "Unusual co2 readings in the kitchen");
    BOOST_TEST(title(r(kT0, "humidity", 47, {"stuck"})) ==
               "Humidity sensor may be faulty in the kitchen");
    auto ev = feed({r(kT0, "humidity", 47, {"stuck"})});
    BOOST_TEST(
        contains(narrate(ev[0], p, 300000).description, "keeps reporting the same value (47 %)"));
}

BOOST_AUTO_TEST_CASE(resolve_text_and_low_severity) {
    TrackerOptions o;
    o.wall_clock = false;
    IncidentTracker t(o);
    std::vector<Event> ev;
    t.observe(r(kT0, "flame", 1, {"threshold:flame"}), 0, ev);
    record::Reading later = r(kT0 + 12 * 60000, "flame", 0, {});
    later.anomaly = false;
    t.observe(later, 0, ev);
    BOOST_REQUIRE_EQUAL(ev.size(), 2u);
    BOOST_TEST((ev[1].kind == EventKind::resolve));
    const Text text = narrate(ev[1], SeverityPolicy{}, 5 * 60000);
    BOOST_TEST(text.title == "Resolved: fire in the kitchen");
    BOOST_TEST(contains(text.description, "No anomalous reading for 5 minutes."));
    BOOST_TEST(contains(text.description, "peaked at CRITICAL"));
    const Alert a = make_alert(ev[1], text);
    BOOST_TEST((a.severity == Severity::low)); // a resolve must not set off the siren again
    BOOST_TEST((a.peak == Severity::critical));
}

BOOST_AUTO_TEST_CASE(long_names_keep_titles_short_and_valid_utf8) {
    record::Reading x =
        r(kT0, "flame", 1, {"threshold:flame"}, 0.9, "séjour-" + std::string(70, 'x'));
    const auto ev = feed({x});
    const Text t = narrate(ev[0], SeverityPolicy{}, 300000);
    BOOST_TEST(t.title.size() <= 80u);
    BOOST_TEST(t.title.substr(t.title.size() - 3) == "...");
}

BOOST_AUTO_TEST_CASE(alert_json_is_the_design_record) {
    const auto ev = feed({r(kT0, "gas", 1550, {"threshold:gas"}, 0.97)});
    Alert a = make_alert(ev[0], narrate(ev[0], SeverityPolicy{}, 300000));
    const auto j = nlohmann::json::parse(to_json(a));
    BOOST_TEST(j["kind"] == "alert");
    BOOST_TEST(j["id"] == "esp32-kitchen-1761410712000.1");
    BOOST_TEST(j["ts"] == "2025-10-25T16:45:12.000Z");
    BOOST_TEST(j["device"] == "esp32-kitchen");
    BOOST_TEST(j["sensor"] == "gas");
    BOOST_TEST(j["severity"] == "CRITICAL");
    BOOST_TEST(j["value"] == 1550.0);
    BOOST_TEST(j["score"] == 0.97);
    BOOST_TEST(j["incident"] == "esp32-kitchen-1761410712000");
    BOOST_TEST(j["source"] == "rules");
    BOOST_TEST(j["event"] == "open");
    BOOST_TEST(j["location"] == "kitchen");
    BOOST_TEST(!j.contains("rules")); // only an update carries the rules text beside its own
    for (const char* k : {"title", "description", "suggestion"})
        BOOST_TEST(j[k].is_string());
    a.source = "gemini";
    a.text.title = "Model \"title\"\n<script>";
    const auto u = nlohmann::json::parse(to_json(a));
    BOOST_TEST(u["title"] == "Model \"title\"\n<script>"); // escaped on the wire, intact in value
    BOOST_TEST(u["rules"]["title"] == "Dangerous gas level in the kitchen");
}

BOOST_AUTO_TEST_CASE(a_value_inside_its_normal_range_is_never_called_abnormal) {
    // 264 ppm is inside gas's normal range (up to 300): the words say what the detector saw.
    const auto gas = feed({r(kT0, "gas", 264, {"zscore", "spike"}, 0.8)});
    BOOST_REQUIRE_EQUAL(gas.size(), 1u);
    const Text g = narrate(gas[0], SeverityPolicy{}, 5 * 60000);
    BOOST_TEST(!contains(g.description, "higher than normal"));
    BOOST_TEST(contains(g.description, "inside its normal range (up to 300 ppm), but it changed "
                                       "suddenly"));
    BOOST_TEST(g.title == "Unusual gas reading in the kitchen");
    // Past the range it is higher than normal, and the title says the level is rising.
    const auto high = feed({r(kT0, "gas", 420, {"zscore"}, 0.8)});
    const Text h = narrate(high[0], SeverityPolicy{}, 5 * 60000);
    BOOST_TEST(contains(h.description, "Gas reads 420 ppm in the kitchen, higher than normal."));
    BOOST_TEST(h.title == "Gas level rising in the kitchen");
    // A room at 22 C flagged for the hour is not "higher than usual".
    const auto warm = feed({r(kT0, "temperature", 22, {"daily"}, 0.8)});
    const Text w = narrate(warm[0], SeverityPolicy{}, 5 * 60000);
    BOOST_TEST(!contains(w.description, "higher than usual"));
    BOOST_TEST(contains(w.description, "it is unusual for this time of day"));
    BOOST_TEST(w.title == "Unusual temperature in the kitchen");
}

BOOST_AUTO_TEST_CASE(crossing_the_danger_level_raises_the_incident_at_that_reading) {
    // A gas leak opens MEDIUM on a rising but modest reading; the first reading at the shared
    // danger level makes it CRITICAL then, even one the detector (with higher levels) left
    // unflagged.
    auto at_level = r(kT0 + 60000, "gas", record::kGasDangerPpm, {});
    at_level.anomaly = false;
    const auto ev = feed({r(kT0, "gas", 394, {"zscore"}, 0.8), at_level});
    BOOST_REQUIRE_EQUAL(ev.size(), 2u);
    BOOST_TEST((ev[0].incident.severity == Severity::medium));
    BOOST_TEST((ev[1].kind == EventKind::raise));
    BOOST_TEST(ev[1].ts == kT0 + 60000);
    BOOST_TEST((ev[1].incident.severity == Severity::critical));
    const Text t = narrate(ev[1], SeverityPolicy{}, 5 * 60000);
    BOOST_TEST(contains(t.description, "at or above the danger level of 1500 ppm"));
    // An unflagged reading below the level is not part of any incident.
    auto below = r(kT0 + 60000, "gas", record::kGasDangerPpm - 1, {});
    below.anomaly = false;
    BOOST_TEST(feed({r(kT0, "gas", 394, {"zscore"}, 0.8), below}).size() == 1u);
}
