#pragma once
// The payload formats a tool that reads readings understands (--format), and the MQTT
// subscriptions that follow from one.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iots::adapt {

enum class Format { iotshield, automatic, seed, zigbee2mqtt, tasmota, esphome };

// "auto|iotshield|seed|zigbee2mqtt|tasmota|esphome", for --help and error messages.
inline constexpr std::string_view kFormatNames = "auto|iotshield|seed|zigbee2mqtt|tasmota|esphome";

[[nodiscard]] std::optional<Format> parse_format(std::string_view name) noexcept;
[[nodiscard]] std::string_view format_name(Format format) noexcept;

// The subscription filters of a format under the IoTShield prefix: iotshield <prefix>/sensors/#
// and <prefix>/status/#; seed <prefix>/sensors/data; zigbee2mqtt zigbee2mqtt/#; tasmota
// tele/+/SENSOR and tele/+/LWT; esphome +/sensor/+/state, +/binary_sensor/+/state and +/status;
// auto all of them (the seed's topic is under <prefix>/sensors/#).
[[nodiscard]] std::vector<std::string> subscriptions(Format format, std::string_view prefix);

} // namespace iots::adapt
