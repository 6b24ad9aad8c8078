#pragma once
// The topics of the other ecosystems on a home's broker (DESIGN §3), taken apart here as
// mqtt/topics takes apart IoTShield's own: zigbee2mqtt/<friendly name>[/availability],
// tele/<topic>/SENSOR and tele/<topic>/LWT (Tasmota), <node>/sensor/<id>/state,
// <node>/binary_sensor/<id>/state and <node>/status (ESPHome), and the seed's
// <prefix>/sensors/data.
#include "iotshield/adapt/format.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iots::adapt {

// (The seed's <prefix>/sensors/data is mqtt::seed_topic.)
[[nodiscard]] std::vector<std::string> zigbee2mqtt_filters(); // zigbee2mqtt/#
[[nodiscard]] std::vector<std::string> tasmota_filters();     // tele/+/SENSOR, tele/+/LWT
// +/sensor/+/state, +/binary_sensor/+/state, +/status
[[nodiscard]] std::vector<std::string> esphome_filters();

// What a topic of a format carries.
struct Topic {
    enum class What { reading, status, ignored };
    What what = What::ignored;
    std::string_view device; // as in the topic (not yet made a valid device name)
    std::string_view object; // ESPHome: the sensor's id
    bool binary = false;     // ESPHome: a binary_sensor (ON/OFF)
};

// The topic read as the given format says (any base topic or node prefix): zigbee2mqtt
// <base>/<friendly name>, its /availability (status), its /set and /get and <base>/bridge/...
// (ignored); Tasmota <...>/<topic>/SENSOR, <...>/<topic>/LWT (status), other telemetry ignored;
// ESPHome <node>/sensor/<id>/state, <node>/binary_sensor/<id>/state, <node>/status (status).
[[nodiscard]] Topic zigbee2mqtt_topic(std::string_view topic);
[[nodiscard]] Topic tasmota_topic(std::string_view topic);
[[nodiscard]] Topic esphome_topic(std::string_view topic);

// --format auto: the format of a topic by its shape, with the default base topics
// (zigbee2mqtt/..., tele/<topic>/SENSOR|LWT, the ESPHome shapes), the seed's topic and IoTShield's
// own (<prefix>/sensors/..., <prefix>/status/...); nullopt when the topic is none of these.
[[nodiscard]] std::optional<Format> format_of_topic(std::string_view topic,
                                                    std::string_view prefix);

} // namespace iots::adapt
