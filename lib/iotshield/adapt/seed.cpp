// The older IoTShield nodes: {"device_id","sensor_type":"TEMPERATURE","value","unit","location",
// "timestamp"} on <prefix>/sensors/data (record/'s parser reads that shape, and a plain reading);
// here the seed's sensor names and units become the kinds of DESIGN §2.
#include "iotshield/adapt/formats.hpp"

#include "iotshield/record/sensor.hpp"

#include <array>
#include <utility>

namespace iots::adapt::detail {

namespace {

// The seed's names (lowercased by the parser) that are a known kind under another name.
constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kAliases{{
    {"temp", "temperature"},
    {"hum", "humidity"},
    {"pir", "motion"},
    {"occupancy", "motion"},
    {"ldr", "light"},
    {"lux", "light"},
    {"illuminance", "light"},
    {"mq2", "gas"},
    {"mq-2", "gas"},
}};

} // namespace

void read_seed(record::Parser& parser, std::string_view payload, Result& out) {
    out.kind = Kind::readings;
    out.own_time = true;
    record::Reading r;
    if (!parser.parse(payload, r)) {
        out.problems.push_back(parser.error());
        return;
    }
    for (const auto& [alias, kind] : kAliases)
        if (r.sensor == alias)
            r.sensor = kind;
    if (r.sensor == "temperature" && is_fahrenheit(r.unit))
        r.value = fahrenheit_to_celsius(r.value);
    if (const auto info = record::sensor_info(r.sensor))
        r.unit = info->unit; // "°C", "celsius", "lx": the kind's own unit
    if (std::string reason = record::validate(r); !reason.empty()) {
        out.problems.push_back(std::move(reason));
        return;
    }
    out.readings.push_back(std::move(r));
}

} // namespace iots::adapt::detail
