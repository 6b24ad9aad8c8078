#pragma once
// Home Assistant MQTT discovery configs (pure, no I/O): what iots-ha publishes, retained, under
// <discovery>/<component>/<node>/<object>/config for a device and for each of its sensors.
// Home Assistant's schema: https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery
#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace iots::ha {

struct Names {
    std::string topic_prefix = "iotshield";  // the project's topics (--topic-prefix)
    std::string discovery = "homeassistant"; // Home Assistant's discovery prefix
};

struct Config {
    std::string topic;   // <discovery>/<component>/<node>/<object>/config
    std::string payload; // the config, JSON
    std::string unique_id;
};

// The states iots-ha derives and publishes itself, retained, on <prefix>/ha/<device>/<state>.
inline constexpr std::string_view kLeakState = "gas_leak";     // ON / OFF (gas at the danger level)
inline constexpr std::string_view kProblemState = "anomaly";   // ON / OFF (the detector's anomaly)
inline constexpr std::string_view kSeverityState = "severity"; // one of kSeverities
// The severity sensor's options: "none" once an incident is resolved, else the latest alert's.
inline constexpr std::array<std::string_view, 5> kSeverities = {"none", "LOW", "MEDIUM", "HIGH",
                                                                "CRITICAL"};

// A device name as a discovery node id ([a-zA-Z0-9_-]: '.' becomes '_'). Entities' unique_id
// keep the device's own name, so two devices that differ only by '.' and '_' stay distinct
// entities (their configs share a topic only in that unlikely case).
[[nodiscard]] std::string node_id(std::string_view device);

// The device's own entities: connectivity (its online/offline status), the detector's anomaly
// (problem) and the latest alert's severity (enum). `location`, when known, is the suggested area.
[[nodiscard]] std::vector<Config> device_configs(const Names& names, std::string_view device,
                                                 std::string_view location);

// One sensor's entities: the reading (with the class and unit of its kind; a kind the project
// does not know as a plain measurement with the unit its readings carry), and for gas also the
// leak binary sensor. `unit` is the unit a reading carried (used only for unknown kinds).
[[nodiscard]] std::vector<Config> sensor_configs(const Names& names, std::string_view device,
                                                 std::string_view sensor, std::string_view unit,
                                                 std::string_view location);

} // namespace iots::ha
