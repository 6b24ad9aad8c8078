#include "iotshield/adapt/format.hpp"

#include "iotshield/adapt/topics.hpp"
#include "iotshield/mqtt/topics.hpp"

#include <array>
#include <utility>

namespace iots::adapt {

namespace {
constexpr std::array<std::pair<std::string_view, Format>, 6> kNames{{
    {"auto", Format::automatic},
    {"iotshield", Format::iotshield},
    {"seed", Format::seed},
    {"zigbee2mqtt", Format::zigbee2mqtt},
    {"tasmota", Format::tasmota},
    {"esphome", Format::esphome},
}};
} // namespace

std::optional<Format> parse_format(std::string_view name) noexcept {
    for (const auto& [n, f] : kNames)
        if (n == name)
            return f;
    return std::nullopt;
}

std::string_view format_name(Format format) noexcept {
    for (const auto& [n, f] : kNames)
        if (f == format)
            return n;
    return "iotshield";
}

std::vector<std::string> subscriptions(Format format, std::string_view prefix) {
    std::vector<std::string> out;
    auto add = [&out](std::vector<std::string> more) {
        for (auto& f : more)
            out.push_back(std::move(f));
    };
    switch (format) {
    case Format::iotshield:
        add({mqtt::sensors_filter(prefix), mqtt::status_filter(prefix)});
        break;
    case Format::seed:
        add({mqtt::seed_topic(prefix)});
        break;
    case Format::zigbee2mqtt:
        add(zigbee2mqtt_filters());
        break;
    case Format::tasmota:
        add(tasmota_filters());
        break;
    case Format::esphome:
        add(esphome_filters());
        break;
    case Format::automatic:
        add({mqtt::sensors_filter(prefix), mqtt::status_filter(prefix)});
        add(zigbee2mqtt_filters());
        add(tasmota_filters());
        add(esphome_filters());
        break;
    }
    return out;
}

} // namespace iots::adapt
