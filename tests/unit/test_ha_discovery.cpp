// The Home Assistant discovery configs, the derived states and their topics.
#define BOOST_TEST_MODULE ha_discovery
#include "iotshield/ha/discovery.hpp"
#include "iotshield/ha/states.hpp"
#include "iotshield/mqtt/ha_topics.hpp"
#include "iotshield/record/safety.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <set>

using iots::ha::Config;
using Json = nlohmann::json;

namespace {

iots::ha::Names names() {
    return {};
}

Json parse(const Config& c) {
    Json j = Json::parse(c.payload); // throws on invalid JSON
    BOOST_TEST_CONTEXT(c.topic) {
        BOOST_TEST(j.is_object());
        BOOST_TEST(j.at("unique_id").get<std::string>() == c.unique_id);
        BOOST_TEST(j.at("device").at("identifiers").is_array());
        BOOST_TEST(j.at("device").at("name").is_string());
        BOOST_TEST(j.at("state_topic").is_string());
    }
    return j;
}

const Config& by_topic(const std::vector<Config>& cs, const std::string& topic) {
    for (const auto& c : cs)
        if (c.topic == topic)
            return c;
    BOOST_FAIL("no config on " + topic);
    throw;
}

// The availability topics an entity names.
std::set<std::string> availability(const Json& j) {
    std::set<std::string> out;
    for (const auto& a : j.at("availability"))
        out.insert(a.at("topic").get<std::string>());
    return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(config_topics_follow_the_discovery_layout) {
    BOOST_TEST(iots::mqtt::ha_config_topic("homeassistant", "sensor", "esp32-kitchen", "gas") ==
               "homeassistant/sensor/esp32-kitchen/gas/config");
    BOOST_TEST(iots::mqtt::ha_birth_topic("homeassistant") == "homeassistant/status");
    BOOST_TEST(iots::mqtt::ha_state_topic("iotshield", "n1", "severity") ==
               "iotshield/ha/n1/severity");
    BOOST_TEST(iots::ha::node_id("esp32.hall") == "esp32_hall");
}

BOOST_AUTO_TEST_CASE(the_topic_parser_tells_every_input_apart) {
    using Kind = iots::mqtt::HaTopicParser::Kind;
    const iots::mqtt::HaTopicParser p("iotshield", "homeassistant");
    BOOST_TEST((p.parse("homeassistant/status").kind == Kind::ha_birth));
    auto r = p.parse("iotshield/sensors/n1/gas");
    BOOST_TEST((r.kind == Kind::reading));
    BOOST_TEST(r.device == "n1");
    BOOST_TEST(r.name == "gas");
    BOOST_TEST((p.parse("iotshield/status/n1").kind == Kind::status));
    BOOST_TEST((p.parse("iotshield/anomalies/n1/gas").kind == Kind::anomaly));
    BOOST_TEST((p.parse("iotshield/alerts/n1").kind == Kind::alert));
    r = p.parse("iotshield/ha/n1/anomaly");
    BOOST_TEST((r.kind == Kind::ha_state));
    BOOST_TEST(r.name == "anomaly");
    // The seed's topic, iots-ha's own status, too deep or empty levels: nothing to act on.
    for (const char* t : {"iotshield/sensors/data", "iotshield/ha/status", "iotshield/alerts/n1/x",
                          "iotshield/sensors/n1/", "iotshield/sensors//gas", "other/status/n1",
                          "iotshield/status/"})
        BOOST_TEST_CONTEXT(t) {
            BOOST_TEST((p.parse(t).kind == Kind::other));
        }
}

BOOST_AUTO_TEST_CASE(numeric_sensors_have_their_class_unit_and_measurement_state_class) {
    struct Case {
        const char* sensor;
        const char* device_class; // "" for none
        const char* unit;
    };
    for (const Case& k :
         {Case{"temperature", "temperature", "°C"}, Case{"humidity", "humidity", "%"},
          Case{"light", "illuminance", "lx"}, Case{"gas", "", "ppm"}, Case{"co2", "", "ppm"}}) {
        BOOST_TEST_CONTEXT(k.sensor) {
            const auto cs = iots::ha::sensor_configs(names(), "n1", k.sensor, "ppm", "kitchen");
            const Json j =
                parse(by_topic(cs, std::string("homeassistant/sensor/n1/") + k.sensor + "/config"));
            BOOST_TEST(j.at("state_topic") == std::string("iotshield/sensors/n1/") + k.sensor);
            BOOST_TEST(j.at("value_template") == "{{ value_json.value }}");
            BOOST_TEST(j.at("state_class") == "measurement");
            BOOST_TEST(j.at("unit_of_measurement") == k.unit);
            if (*k.device_class == '\0')
                BOOST_TEST(!j.contains("device_class")); // above all, no "gas" on ppm
            else
                BOOST_TEST(j.at("device_class") == k.device_class);
            BOOST_TEST(availability(j) == std::set<std::string>{"iotshield/status/n1"});
            BOOST_TEST(j.at("device").at("suggested_area") == "kitchen");
        }
    }
}

BOOST_AUTO_TEST_CASE(gas_also_has_a_leak_binary_sensor_on_a_derived_state) {
    const auto cs = iots::ha::sensor_configs(names(), "n1", "gas", "ppm", "");
    BOOST_TEST(cs.size() == 2U);
    const Json j = parse(by_topic(cs, "homeassistant/binary_sensor/n1/gas_leak/config"));
    BOOST_TEST(j.at("device_class") == "gas");
    BOOST_TEST(j.at("state_topic") == "iotshield/ha/n1/gas_leak");
    BOOST_TEST(availability(j) ==
               (std::set<std::string>{"iotshield/status/n1", "iotshield/ha/status"}));
    BOOST_TEST(j.at("availability_mode") == "all");
    BOOST_TEST(!j.at("device").contains("suggested_area"));
}

BOOST_AUTO_TEST_CASE(flame_and_motion_are_binary_sensors_of_their_reading) {
    for (const auto& [sensor, cls] :
         {std::pair{"flame", "safety"}, std::pair{"motion", "motion"}}) {
        const auto cs = iots::ha::sensor_configs(names(), "n1", sensor, "", "");
        BOOST_TEST(cs.size() == 1U);
        const Json j = parse(
            by_topic(cs, std::string("homeassistant/binary_sensor/n1/") + sensor + "/config"));
        BOOST_TEST(j.at("device_class") == cls);
        BOOST_TEST(!j.contains("unit_of_measurement"));
        BOOST_TEST(j.at("value_template").get<std::string>().find("value_json.value") !=
                   std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(a_device_has_connectivity_problem_and_severity_entities) {
    const auto cs = iots::ha::device_configs(names(), "esp32.hall", "");
    BOOST_TEST(cs.size() == 3U);
    const Json status = parse(by_topic(cs, "homeassistant/binary_sensor/esp32_hall/status/config"));
    BOOST_TEST(status.at("device_class") == "connectivity");
    BOOST_TEST(status.at("state_topic") == "iotshield/status/esp32.hall");
    BOOST_TEST(status.at("payload_on") == "online");
    BOOST_TEST(status.at("payload_off") == "offline");

    const Json problem =
        parse(by_topic(cs, "homeassistant/binary_sensor/esp32_hall/anomaly/config"));
    BOOST_TEST(problem.at("device_class") == "problem");
    BOOST_TEST(problem.at("state_topic") == "iotshield/ha/esp32.hall/anomaly");

    const Json severity = parse(by_topic(cs, "homeassistant/sensor/esp32_hall/severity/config"));
    BOOST_TEST(severity.at("device_class") == "enum");
    BOOST_TEST(severity.at("options") ==
               Json::array({"none", "LOW", "MEDIUM", "HIGH", "CRITICAL"}));
    BOOST_TEST(!severity.contains("state_class")); // Home Assistant refuses one on an enum
    BOOST_TEST(!severity.contains("unit_of_measurement"));
    BOOST_TEST(severity.at("device").at("name") == "esp32.hall");
}

BOOST_AUTO_TEST_CASE(unique_ids_are_unique_even_for_a_sensor_named_like_a_state) {
    std::set<std::string> ids;
    std::size_t n = 0;
    for (const auto& c : iots::ha::device_configs(names(), "n1", "")) {
        ids.insert(c.unique_id);
        ++n;
    }
    for (const char* s : {"gas", "anomaly", "severity", "status", "gas_leak", "flame"})
        for (const auto& c : iots::ha::sensor_configs(names(), "n1", s, "", "")) {
            ids.insert(c.unique_id);
            ++n;
        }
    BOOST_TEST(ids.size() == n);
}

BOOST_AUTO_TEST_CASE(prefixes_are_honoured) {
    iots::ha::Names n;
    n.topic_prefix = "home";
    n.discovery = "ha";
    const auto cs = iots::ha::sensor_configs(n, "n1", "gas", "", "");
    const Json j = parse(by_topic(cs, "ha/binary_sensor/n1/gas_leak/config"));
    BOOST_TEST(j.at("state_topic") == "home/ha/n1/gas_leak");
    BOOST_TEST(availability(j) == (std::set<std::string>{"home/status/n1", "home/ha/status"}));
}

BOOST_AUTO_TEST_CASE(a_leak_is_the_shared_danger_level_and_published_on_change_only) {
    iots::ha::States s(iots::record::kGasDangerPpm, 1000);
    auto c = s.gas("n1", 400);
    BOOST_REQUIRE(c);
    BOOST_TEST(c->value == "OFF");
    BOOST_TEST(!s.gas("n1", 500));                // still OFF: nothing to publish
    c = s.gas("n1", iots::record::kGasDangerPpm); // at the level is a leak
    BOOST_REQUIRE(c);
    BOOST_TEST(c->state == iots::ha::kLeakState);
    BOOST_TEST(c->value == "ON");
    c = s.gas("n1", iots::record::kGasDangerPpm - 1);
    BOOST_REQUIRE(c);
    BOOST_TEST(c->value == "OFF");
}

BOOST_AUTO_TEST_CASE(an_anomaly_clears_after_the_quiet_time) {
    iots::ha::States s(1500, 1000);
    const auto first = s.first_seen("n1");
    BOOST_TEST(first.size() == 2U); // anomaly OFF, severity none
    auto c = s.anomaly("n1", 10'000);
    BOOST_REQUIRE(c);
    BOOST_TEST(c->value == "ON");
    BOOST_TEST(!s.anomaly("n1", 10'500));
    BOOST_TEST(s.expire(11'400).empty()); // 900 ms after the last one
    const auto off = s.expire(11'500);    // 1000 ms after it
    BOOST_REQUIRE(off.size() == 1U);
    BOOST_TEST(off[0].value == "OFF");
    BOOST_TEST(s.expire(20'000).empty());
}

BOOST_AUTO_TEST_CASE(severity_follows_the_latest_alert_and_resolve_is_none) {
    iots::ha::States s(1500, 1000);
    auto c = s.alert("n1", "MEDIUM", "open");
    BOOST_REQUIRE(c);
    BOOST_TEST(c->value == "MEDIUM");
    c = s.alert("n1", "CRITICAL", "raise");
    BOOST_REQUIRE(c);
    BOOST_TEST(c->value == "CRITICAL");
    BOOST_TEST(!s.alert("n1", "bogus", "raise"));
    c = s.alert("n1", "LOW", "resolve");
    BOOST_REQUIRE(c);
    BOOST_TEST(c->value == "none");
}

BOOST_AUTO_TEST_CASE(restored_states_are_not_overwritten_by_a_first_sight) {
    iots::ha::States s(1500, 1000);
    s.restore("n1", "severity", "HIGH", 0);
    s.restore("n1", "anomaly", "ON", 5'000);
    BOOST_TEST(s.first_seen("n1").empty());
    BOOST_TEST(s.expire(5'999).empty());
    BOOST_TEST(s.expire(6'000).size() == 1U); // restored ON clears clear_after from the restore
    s.restore("n2", "severity", "bogus", 0);  // ignored
    BOOST_TEST(s.first_seen("n2").size() == 2U);
}
