#include "iotsfw/records.hpp"

#include "iotsfw/json.hpp"

namespace iots::fw {

namespace {
constexpr KindInfo kKinds[] = {
    {"temperature", "C", 1}, {"humidity", "%", 1}, {"gas", "ppm", 1},
    {"flame", "0/1", 0},     {"motion", "0/1", 0}, {"light", "lux", 1},
};

void open_record(std::string& out, const char* kind, std::optional<std::int64_t> ts,
                 std::string_view device) {
    out += '{';
    if (kind != nullptr) {
        out += "\"kind\":";
        append_json_string(kind, out);
        out += ',';
    }
    if (ts) {
        out += "\"ts\":\"";
        append_rfc3339(*ts, out);
        out += "\",";
    }
    out += "\"device\":";
    append_json_string(device, out);
}
} // namespace

const KindInfo& kind_info(Kind k) {
    return kKinds[static_cast<int>(k)];
}

std::string reading_json(std::string_view device, const Sample& s, std::optional<std::int64_t> ts) {
    const KindInfo& k = kind_info(s.kind);
    std::string out;
    out.reserve(128);
    open_record(out, nullptr, ts, device);
    out += ",\"sensor\":";
    append_json_string(k.name, out);
    out += ",\"value\":";
    append_fixed(s.value, k.decimals, out);
    out += ",\"unit\":";
    append_json_string(k.unit, out);
    out += ",\"seq\":";
    append_uint(s.seq, out);
    if (s.over_range)
        out += ",\"over_range\":true";
    if (s.privacy != nullptr) {
        out += ',';
        out += *s.privacy;
    }
    out += '}';
    return out;
}

const char* fault_reason(Fault f) {
    switch (f) {
    case Fault::dht_no_answer:
        return "dht22: no valid answer (timeout, checksum or NaN)";
    case Fault::mq2_open:
        return "mq2: ADC at 0 (sensor unplugged or heater off)";
    case Fault::mq2_saturated:
        return "mq2: ADC at full scale (check the divider to the pin)";
    case Fault::mq2_uncalibrated:
        return "mq2: no clean-air R0 stored (calibrate)";
    case Fault::ldr_saturated:
        return "ldr: ADC at full scale (shorted or out of range)";
    }
    return "unknown fault";
}

std::string fault_json(std::string_view device, Kind sensor, Fault f,
                       std::optional<std::int64_t> ts) {
    std::string out;
    open_record(out, "fault", ts, device);
    out += ",\"sensor\":";
    append_json_string(kind_info(sensor).name, out);
    out += ",\"reason\":";
    append_json_string(fault_reason(f), out);
    out += '}';
    return out;
}

std::string dropped_json(std::string_view device, std::uint64_t dropped,
                         std::optional<std::int64_t> ts) {
    std::string out;
    open_record(out, "fault", ts, device);
    std::string reason = "offline buffer full: ";
    append_uint(dropped, reason);
    reason += dropped == 1 ? " oldest record dropped" : " oldest records dropped";
    out += ",\"reason\":";
    append_json_string(reason, out);
    out += ",\"dropped\":";
    append_uint(dropped, out);
    out += '}';
    return out;
}

} // namespace iots::fw
