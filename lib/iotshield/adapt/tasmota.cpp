// Tasmota: tele/<topic>/SENSOR, {"Time":"2025-10-25T16:45:12","AM2301":{"Temperature":21.5,
// "Humidity":40.1},"TempUnit":"C"}: one object per sensor driver, Time in the device's local
// time with no zone (unless SetOption52 added one).
#include "iotshield/adapt/formats.hpp"
#include "iotshield/core/printable.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>

namespace iots::adapt::detail {

namespace {

// The drivers read (Tasmota names a second one of a kind "DS18B20-2", "SHT3X-0x45"). Others are
// an unknown driver: said, not guessed at. ESP32 (the chip's own temperature) is not the room's.
constexpr std::array<std::string_view, 45> kDrivers{
    "AM2301",  "AM2302", "DHT11",   "DHT21",   "DHT22",    "SI7021",   "SHT1X",    "SHT3X",
    "SHT4X",   "SHTC3",  "HTU21",   "AHT1X",   "AHT2X",    "BME280",   "BMP280",   "BME680",
    "BMP180",  "BMP085", "BME688",  "DS18B20", "DS18S20",  "DS1822",   "DS18x20",  "MAX31855",
    "MAX6675", "BH1750", "TSL2561", "TSL2591", "VEML6070", "VEML7700", "APDS9960", "ANALOG",
    "MHZ19B",  "SCD30",  "SCD40",   "SGP30",   "SGP40",    "CCS811",   "SR04",     "ENERGY",
    "Global",  "LM75AD", "HDC1080", "MCP9808", "PMS5003"};
constexpr std::array<std::string_view, 2> kNotRoom{"ESP32", "ESP8266"};

struct Measure {
    std::string_view key;    // Tasmota's
    std::string_view sensor; // ours
    std::string_view unit;   // for a name of its own
    bool temperature;        // in TempUnit
};
constexpr std::array<Measure, 9> kMeasures{{
    {"Temperature", "temperature", "C", true},
    {"Humidity", "humidity", "%", false},
    {"Illuminance", "light", "lux", false},
    {"DewPoint", "dewpoint", "C", true},
    {"Pressure", "pressure", "hPa", false},
    {"CarbonDioxide", "co2", "ppm", false},
    {"eCO2", "eco2", "ppm", false},
    {"TVOC", "tvoc", "ppb", false},
    {"Gas", "gas_resistance", "kOhm", false}, // BME680: the sensor's resistance, not ppm
}};

bool known_driver(std::string_view name) {
    const auto dash = name.find('-');
    const std::string_view base = name.substr(0, dash);
    return std::find(kDrivers.begin(), kDrivers.end(), base) != kDrivers.end();
}

bool ends_with(std::string_view s, std::string_view tail) {
    return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

} // namespace

void read_tasmota(std::string_view topic_device, std::string_view payload, core::Millis wall,
                  const Options& options, Result& out) {
    out.kind = Kind::readings;
    nlohmann::ordered_json o;
    if (!parse_object(payload, o, out))
        return;
    const std::string device = safe_name(topic_device);
    if (device.empty()) {
        out.problems.emplace_back("no device name in the topic");
        return;
    }
    core::Millis ts = wall;
    out.own_time = false;
    if (const auto it = o.find("Time"); it != o.end()) {
        const std::string time = it->is_string() ? it->get<std::string>() : std::string();
        if (auto with_zone = core::parse_rfc3339(time)) {
            ts = *with_zone;
        } else if (auto local = core::parse_rfc3339(time + "Z")) {
            ts = local_to_utc(*local, options);
        } else {
            out.problems.push_back(fmt::format("Time: {} is not an ISO 8601 time",
                                               quote_text(it->is_string() ? time : it->dump())));
            return;
        }
        out.own_time = true;
    }
    bool fahrenheit = false;
    if (const auto it = o.find("TempUnit"); it != o.end() && it->is_string())
        fahrenheit = is_fahrenheit(it->get_ref<const std::string&>());

    bool any = false;
    for (const auto& [driver, values] : o.items()) {
        if (!values.is_object()) // Time, TempUnit, PressureUnit, a Switch1's "ON"
            continue;
        if (std::find(kNotRoom.begin(), kNotRoom.end(), driver) != kNotRoom.end())
            continue;
        if (!known_driver(driver)) {
            out.problems.push_back(fmt::format("unknown driver {} (not read)", quote_text(driver)));
            continue;
        }
        for (const auto& [key, v] : values.items()) {
            const Measure* m = nullptr;
            for (const auto& candidate : kMeasures)
                if (candidate.key == key)
                    m = &candidate;
            // An Id, a list of several readings: not one measurement. A known one must be a
            // number.
            if (!m && !v.is_number())
                continue;
            const std::string what = core::printable(driver + "." + key); // a reason's line
            if (!v.is_number()) {
                out.problems.push_back(
                    fmt::format("{}: expected a number, got {}", what, json_type_name(v)));
                continue;
            }
            double value = v.get<double>();
            std::string sensor = m ? std::string(m->sensor) : sensor_name(key);
            std::string_view unit = m ? m->unit : std::string_view();
            if (m && m->temperature && fahrenheit)
                value = fahrenheit_to_celsius(value);
            if (!m && ends_with(key, "Temperature") && fahrenheit)
                value = fahrenheit_to_celsius(value);
            // A second driver of the same measurement keeps its own series:
            // temperature_ds18b20-2 beside the first one's temperature.
            for (const auto& r : out.readings)
                if (r.sensor == sensor) {
                    sensor += "_" + sensor_name(driver);
                    break;
                }
            any = true;
            add_reading(out, device, sensor, value, unit, ts, what);
        }
    }
    if (!any && out.problems.empty())
        out.kind = Kind::ignored;
}

} // namespace iots::adapt::detail
