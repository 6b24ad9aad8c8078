#include "iotshield/ha/discovery.hpp"

#include "iotshield/mqtt/ha_topics.hpp"
#include "iotshield/mqtt/topics.hpp"
#include "iotshield/record/sensor.hpp"

#include <nlohmann/json.hpp>

namespace iots::ha {

namespace {

using Json = nlohmann::ordered_json;

// A reading's number out of the project's own reading record (DESIGN §2).
constexpr std::string_view kValueTemplate = "{{ value_json.value }}";
// An on/off reading (0/1) as Home Assistant's default binary payloads.
constexpr std::string_view kOnOffTemplate =
    "{{ 'ON' if (value_json.value | float(0)) >= 0.5 else 'OFF' }}";

// ':' is in neither a device's nor a sensor's alphabet: "iotshield:<device>:sensor:<sensor>" for
// a reading, "iotshield:<device>:<state>" for the device's own entities, never the same.
std::string unique_id(std::string_view device, std::string_view object) {
    std::string id = "iotshield:";
    id.append(device).append(":").append(object);
    return id;
}

Json device_block(std::string_view device, std::string_view location) {
    Json d = {{"identifiers", Json::array({"iotshield:" + std::string(device)})},
              {"name", device},
              {"manufacturer", "IoTShield"},
              {"model", "IoTShield node"}};
    if (!location.empty())
        d["suggested_area"] = location;
    return d;
}

Json availability_of(const Names& n, std::string_view device) {
    return {{"topic", mqtt::status_topic(n.topic_prefix, device)},
            {"payload_available", "online"},
            {"payload_not_available", "offline"}};
}

Json availability_of_bridge(const Names& n) {
    return {{"topic", mqtt::ha_bridge_topic(n.topic_prefix)},
            {"payload_available", "online"},
            {"payload_not_available", "offline"}};
}

// What every entity of a device carries: its name, unique_id, device block and origin.
Json entity(std::string_view name, std::string_view device, const std::string& object,
            std::string_view location) {
    return {{"name", name},
            {"unique_id", unique_id(device, object)},
            {"device", device_block(device, location)},
            {"origin", {{"name", "iots-ha"}}}};
}

// An entity whose state is a reading of the device: available while the device says online.
void reading_state(Json& c, const Names& n, std::string_view device, std::string_view sensor,
                   std::string_view value_template) {
    c["state_topic"] = mqtt::sensor_topic(n.topic_prefix, device, sensor);
    c["value_template"] = value_template;
    c["availability"] = Json::array({availability_of(n, device)});
}

// An entity whose state iots-ha derives: available while the device and iots-ha are online.
void derived_state(Json& c, const Names& n, std::string_view device, std::string_view state) {
    c["state_topic"] = mqtt::ha_state_topic(n.topic_prefix, device, state);
    c["availability"] = Json::array({availability_of(n, device), availability_of_bridge(n)});
    c["availability_mode"] = "all";
}

Config make(const Names& n, std::string_view component, std::string_view device,
            std::string_view object, const Json& c) {
    return {mqtt::ha_config_topic(n.discovery, component, node_id(device), node_id(object)),
            c.dump(), c["unique_id"].get<std::string>()};
}

} // namespace

std::string node_id(std::string_view device) {
    std::string id(device);
    for (char& ch : id)
        if (ch == '.')
            ch = '_';
    return id;
}

std::vector<Config> device_configs(const Names& n, std::string_view device,
                                   std::string_view location) {
    std::vector<Config> out;

    // The device's status itself, so that "offline" shows as a state and not only as every
    // other entity turning unavailable.
    Json status = entity("Connectivity", device, "status", location);
    status["state_topic"] = mqtt::status_topic(n.topic_prefix, device);
    status["payload_on"] = "online";
    status["payload_off"] = "offline";
    status["device_class"] = "connectivity";
    status["entity_category"] = "diagnostic";
    out.push_back(make(n, "binary_sensor", device, "status", status));

    Json problem = entity("Anomaly", device, std::string(kProblemState), location);
    derived_state(problem, n, device, kProblemState);
    problem["device_class"] = "problem";
    out.push_back(make(n, "binary_sensor", device, kProblemState, problem));

    Json severity = entity("Alert severity", device, std::string(kSeverityState), location);
    derived_state(severity, n, device, kSeverityState);
    severity["device_class"] = "enum";
    severity["options"] = Json::array();
    for (std::string_view s : kSeverities)
        severity["options"].push_back(s);
    out.push_back(make(n, "sensor", device, kSeverityState, severity));
    return out;
}

std::vector<Config> sensor_configs(const Names& n, std::string_view device, std::string_view sensor,
                                   std::string_view unit, std::string_view location) {
    using record::SensorKind;
    std::vector<Config> out;
    const SensorKind kind = record::sensor_kind(sensor);
    const std::string title = kind == SensorKind::other ? std::string(sensor) : [&] {
        std::string t(sensor);
        t[0] = static_cast<char>(t[0] - 'a' + 'A');
        return t;
    }();

    if (kind == SensorKind::flame || kind == SensorKind::motion) {
        Json c = entity(title, device, "sensor:" + std::string(sensor), location);
        reading_state(c, n, device, sensor, kOnOffTemplate);
        // A flame is a danger, not a temperature: "safety" (on means unsafe).
        c["device_class"] = kind == SensorKind::flame ? "safety" : "motion";
        out.push_back(make(n, "binary_sensor", device, sensor, c));
        return out;
    }

    Json c = entity(title, device, "sensor:" + std::string(sensor), location);
    reading_state(c, n, device, sensor, kValueTemplate);
    c["state_class"] = "measurement";
    switch (kind) {
    case SensorKind::temperature:
        c["device_class"] = "temperature";
        c["unit_of_measurement"] = "°C";
        break;
    case SensorKind::humidity:
        c["device_class"] = "humidity";
        c["unit_of_measurement"] = "%";
        break;
    case SensorKind::light:
        c["device_class"] = "illuminance";
        c["unit_of_measurement"] = "lx";
        break;
    case SensorKind::gas:
        // No device class: Home Assistant's "gas" means a metered volume (m³, ft³), not a
        // concentration, and it has no class for LPG or smoke in ppm.
        c["unit_of_measurement"] = "ppm";
        c["icon"] = "mdi:molecule";
        break;
    default:
        if (!unit.empty())
            c["unit_of_measurement"] = unit;
        break;
    }
    out.push_back(make(n, "sensor", device, sensor, c));

    if (kind == SensorKind::gas) {
        Json leak = entity("Gas leak", device, std::string(kLeakState), location);
        derived_state(leak, n, device, kLeakState);
        leak["device_class"] = "gas";
        out.push_back(make(n, "binary_sensor", device, kLeakState, leak));
    }
    return out;
}

} // namespace iots::ha
