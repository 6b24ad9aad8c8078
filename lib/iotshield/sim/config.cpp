#include "iotshield/sim/config.hpp"

#include "iotshield/core/duration.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/record/sensor.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <set>

namespace iots::sim {

namespace {
constexpr std::array<std::string_view, kIncidentKinds> kKindNames{
    "fire",         "gas-leak",     "intrusion",     "hvac-failure",
    "sensor-stuck", "sensor-spike", "sensor-dropout"};

[[noreturn]] void usage(const std::string& message) {
    throw Error(Exit::usage, message);
}
} // namespace

std::string_view incident_name(IncidentKind kind) noexcept {
    return kKindNames[static_cast<std::size_t>(kind)];
}

std::optional<IncidentKind> parse_incident_kind(std::string_view name) noexcept {
    for (std::size_t i = 0; i < kKindNames.size(); ++i)
        if (kKindNames[i] == name)
            return static_cast<IncidentKind>(i);
    return std::nullopt;
}

bool is_sensor_fault(IncidentKind kind) noexcept {
    return kind == IncidentKind::sensor_stuck || kind == IncidentKind::sensor_spike ||
           kind == IncidentKind::sensor_dropout;
}

const std::vector<std::string>& default_rooms() {
    static const std::vector<std::string> kRooms{"livingroom", "kitchen", "bedroom",  "hallway",
                                                 "office",     "garage",  "bathroom", "diningroom",
                                                 "nursery",    "attic",   "basement", "laundry"};
    return kRooms;
}

std::vector<DeviceSpec> make_devices(int count, const std::vector<std::string>& names,
                                     const std::vector<std::string>& rooms) {
    if (count < 0)
        usage("--devices must be at least 1");
    std::size_t n = static_cast<std::size_t>(count);
    if (n == 0)
        n = !names.empty() ? names.size() : !rooms.empty() ? rooms.size() : 3;
    if (!names.empty() && names.size() != n)
        usage("--device-names lists " + std::to_string(names.size()) + " names for " +
              std::to_string(n) + " devices");
    if (!rooms.empty() && rooms.size() != n)
        usage("--rooms lists " + std::to_string(rooms.size()) + " rooms for " + std::to_string(n) +
              " devices");
    if (n > 1000)
        usage("--devices: at most 1000");
    std::vector<DeviceSpec> devices(n);
    const auto& defaults = default_rooms();
    for (std::size_t i = 0; i < n; ++i) {
        if (!rooms.empty()) {
            devices[i].room = rooms[i];
        } else {
            devices[i].room = defaults[i % defaults.size()];
            if (i >= defaults.size())
                devices[i].room += std::to_string(i / defaults.size() + 1);
        }
        devices[i].name = names.empty() ? "esp32-" + devices[i].room : names[i];
    }
    return devices;
}

IncidentSpec parse_incident(std::string_view text) {
    const std::string quoted = "--incident '" + std::string(text) + "': ";
    IncidentSpec spec;
    const auto at = text.find('@');
    if (at == std::string_view::npos)
        usage(quoted + "expected KIND@OFFSET[:DURATION][/DEVICE[/SENSOR]], like fire@2h");
    const auto kind = parse_incident_kind(text.substr(0, at));
    if (!kind)
        usage(quoted + "unknown kind '" + std::string(text.substr(0, at)) +
              "' (fire, gas-leak, intrusion, hvac-failure, sensor-stuck, sensor-spike, "
              "sensor-dropout)");
    spec.kind = *kind;
    std::string_view rest = text.substr(at + 1);
    std::string_view where;
    const auto slash_at = rest.find('/');
    if (slash_at != std::string_view::npos) {
        where = rest.substr(slash_at + 1);
        rest = rest.substr(0, slash_at);
    }
    std::string_view when = rest;
    if (const auto colon = rest.find(':'); colon != std::string_view::npos) {
        when = rest.substr(0, colon);
        const auto d = core::parse_duration(rest.substr(colon + 1));
        if (!d || *d <= 0)
            usage(quoted + "duration '" + std::string(rest.substr(colon + 1)) +
                  "' is not a positive duration (like 10m)");
        spec.duration = *d;
    }
    const auto offset = core::parse_duration(when);
    if (!offset)
        usage(quoted + "offset '" + std::string(when) + "' is not a duration (like 2h)");
    spec.offset = *offset;
    if (slash_at != std::string_view::npos) {
        std::string_view device = where;
        if (const auto slash = where.find('/'); slash != std::string_view::npos) {
            device = where.substr(0, slash);
            spec.sensor = std::string(where.substr(slash + 1));
            if (!is_sensor_fault(spec.kind))
                usage(quoted + "only sensor faults take a /SENSOR");
            if (!record::sensor_info(spec.sensor))
                usage(quoted + "unknown sensor '" + spec.sensor +
                      "' (temperature, humidity, gas, flame, motion, light)");
        }
        if (!record::valid_name(device))
            usage(quoted + "'" + std::string(device) + "' is not a device name");
        spec.device = std::string(device);
    }
    return spec;
}

double parse_rate(std::string_view text) {
    const std::string quoted = "--incident-rate '" + std::string(text) + "': ";
    const auto slash = text.find('/');
    if (slash == std::string_view::npos)
        usage(quoted + "expected N/h, N/d or N/w, like 3/d");
    double n = 0;
    const auto num = text.substr(0, slash);
    const auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
    if (ec != std::errc{} || ptr != num.data() + num.size() || !std::isfinite(n) || n < 0)
        usage(quoted + "'" + std::string(num) + "' is not a number of incidents");
    const auto unit = text.substr(slash + 1);
    double per_day = 0;
    if (unit == "h")
        per_day = n * 24;
    else if (unit == "d")
        per_day = n;
    else if (unit == "w")
        per_day = n / 7;
    else
        usage(quoted + "unit '" + std::string(unit) + "' is not h, d or w");
    if (per_day > 1000)
        usage(quoted + "at most 1000 a day");
    return per_day;
}

void validate(const Config& c) {
    if (c.devices.empty())
        usage("no devices to simulate");
    if (c.interval < 100 || c.interval > 86400000)
        usage("--interval must be between 100ms and 1d");
    if (!std::isfinite(c.utc_offset_hours) || std::fabs(c.utc_offset_hours) > 14)
        usage("--utc-offset must be between -14 and 14 hours");
    std::set<std::string> seen;
    for (const auto& d : c.devices) {
        if (!record::valid_name(d.name))
            usage("'" + d.name + "' is not a device name (1-64 of A-Z a-z 0-9 _ . -)");
        if (!record::valid_name(d.room))
            usage("'" + d.room + "' is not a room name (1-64 of A-Z a-z 0-9 _ . -)");
        if (!seen.insert(d.name).second)
            usage("device '" + d.name + "' is listed twice");
    }
    for (const auto& i : c.incidents)
        if (!i.device.empty() && seen.count(i.device) == 0)
            usage("--incident " + std::string(incident_name(i.kind)) + ": no device named '" +
                  i.device + "'");
}

} // namespace iots::sim
