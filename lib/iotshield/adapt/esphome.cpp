// ESPHome's MQTT component: one scalar per topic, <node>/sensor/<id>/state ("21.5", "nan" when
// the read failed) and <node>/binary_sensor/<id>/state ("ON"/"OFF"). The state carries no unit
// and no time: a sensor is read in the unit of the kind its id names (°C, %, lx, ppm).
#include "iotshield/adapt/formats.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <span>
#include <utility>

namespace iots::adapt::detail {

namespace {

// An id that is one of these names (ESPHome's object id of the sensor's name) is the kind; any
// other id is a series of its own name. Exact names only: a node's kitchen_temperature and
// outside_temperature must not become one series.
constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kSensorIds{{
    {"temperature", "temperature"},
    {"temp", "temperature"},
    {"humidity", "humidity"},
    {"illuminance", "light"},
    {"light", "light"},
    {"lux", "light"},
    {"gas", "gas"},
    {"mq2", "gas"},
    {"mq-2", "gas"},
    {"ldr", "light"},
}};
constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kBinaryIds{{
    {"motion", "motion"},
    {"pir", "motion"},
    {"occupancy", "motion"},
    {"presence", "motion"},
    {"flame", "flame"},
    {"fire", "flame"},
    {"smoke", "smoke"},
    {"gas", "gas_alarm"},
    {"gas_leak", "gas_alarm"},
}};

std::string_view trim(std::string_view s) {
    while (!s.empty() &&
           (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

} // namespace

void read_esphome(std::string_view topic_device, std::string_view object, bool binary,
                  std::string_view payload, core::Millis wall, Result& out) {
    out.kind = Kind::readings;
    out.own_time = false;
    const std::string device = safe_name(topic_device);
    if (device.empty()) {
        out.problems.emplace_back("no device name in the topic");
        return;
    }
    std::string sensor = sensor_name(object);
    using Ids = std::span<const std::pair<std::string_view, std::string_view>>;
    for (const auto& [id, kind] : binary ? Ids(kBinaryIds) : Ids(kSensorIds))
        if (sensor == id) {
            sensor = kind;
            break;
        }
    const std::string_view text = trim(payload);
    double value = 0;
    if (binary) {
        if (text == "ON")
            value = 1;
        else if (text == "OFF")
            value = 0;
        else {
            out.problems.push_back(fmt::format("expected ON or OFF, got {}", quote_text(text)));
            return;
        }
    } else {
        if (text == "nan" || text == "NaN" || text == "-nan") {
            out.kind = Kind::ignored; // the read failed: no reading, not a made-up one
            return;
        }
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc{} || end != text.data() + text.size() || text.empty() ||
            !std::isfinite(value)) {
            out.problems.push_back(fmt::format("value: {} is not a number", quote_text(text)));
            return;
        }
    }
    add_reading(out, device, sensor, value, binary ? "0/1" : "", wall, object);
}

} // namespace iots::adapt::detail
