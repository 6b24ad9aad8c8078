// zigbee2mqtt: one JSON object per device on zigbee2mqtt/<friendly name>, every exposed value a
// member. The measurements below are read (booleans as 0/1); the rest (a light's state, its
// brightness, an action, update info) is not a sensor and is left alone.
#include "iotshield/adapt/formats.hpp"

#include <array>
#include <fmt/format.h>

namespace iots::adapt::detail {

namespace {

struct Field {
    std::string_view key;    // zigbee2mqtt's name
    std::string_view sensor; // ours: a kind of DESIGN §2 or a name of its own
    std::string_view unit;   // for a name of its own
};

// illuminance_lux before illuminance: zigbee2mqtt 1.x sent a raw illuminance beside it. A
// boolean gas is a gas alarm, not a concentration: gas_alarm, not the gas kind (ppm).
constexpr std::array<Field, 20> kFields{{
    {"temperature", "temperature", "C"},
    {"humidity", "humidity", "%"},
    {"illuminance_lux", "light", "lux"},
    {"illuminance", "light", "lux"},
    {"occupancy", "motion", "0/1"},
    {"smoke", "smoke", "0/1"},
    {"gas", "gas_alarm", "0/1"},
    {"contact", "contact", "0/1"},
    {"water_leak", "water_leak", "0/1"},
    {"tamper", "tamper", "0/1"},
    {"vibration", "vibration", "0/1"},
    {"battery_low", "battery_low", "0/1"},
    {"battery", "battery", "%"},
    {"linkquality", "linkquality", "lqi"},
    {"co2", "co2", "ppm"},
    {"pressure", "pressure", "hPa"},
    {"pm25", "pm25", "ug/m3"},
    {"voc", "voc", "ppb"},
    {"formaldehyd", "formaldehyde", "mg/m3"},
    {"voltage", "voltage", "mV"},
}};

// last_seen, when zigbee2mqtt is set to send it: ISO 8601 (with its zone) or epoch ms.
std::optional<core::Millis> last_seen(const nlohmann::ordered_json& o) {
    const auto it = o.find("last_seen");
    if (it == o.end())
        return std::nullopt;
    if (it->is_string())
        return core::parse_rfc3339(it->get_ref<const std::string&>());
    if (it->is_number_integer())
        return it->get<std::int64_t>();
    return std::nullopt;
}

} // namespace

void read_zigbee2mqtt(std::string_view topic_device, std::string_view payload, core::Millis wall,
                      Result& out) {
    out.kind = Kind::readings;
    nlohmann::ordered_json o;
    if (!parse_object(payload, o, out))
        return;
    const std::string device = safe_name(topic_device);
    if (device.empty()) {
        out.problems.emplace_back("no device name in the topic");
        return;
    }
    const auto seen = last_seen(o);
    out.own_time = seen.has_value();
    const core::Millis ts = seen.value_or(wall);
    bool any = false, have_light = false;
    for (const auto& f : kFields) {
        const auto it = o.find(std::string(f.key));
        if (it == o.end() || it->is_null()) // null: zigbee2mqtt does not know it yet
            continue;
        if (f.sensor == "light" && have_light)
            continue;
        any = true;
        double value = 0;
        if (it->is_boolean())
            value = it->get<bool>() ? 1.0 : 0.0;
        else if (it->is_number())
            value = it->get<double>();
        else {
            out.problems.push_back(fmt::format("{}: expected a number or a boolean, got {}", f.key,
                                               json_type_name(*it)));
            continue;
        }
        have_light = have_light || f.sensor == "light";
        // A number under gas is a concentration (a few devices send one): the gas kind.
        const bool ppm = f.key == "gas" && it->is_number();
        add_reading(out, device, ppm ? "gas" : f.sensor, value, f.unit, ts, f.key);
    }
    if (!any && out.problems.empty())
        out.kind = Kind::ignored; // a plug's or a light's state, a remote's action
}

} // namespace iots::adapt::detail
