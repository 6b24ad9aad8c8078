#pragma once
// The records a node publishes (iotshield(7), DESIGN §2): readings, faults, acknowledgements.
// Keys in record's order (ts, device, sensor, value, unit, seq); `ts` only once the clock is
// set: without it the hub stamps the reading on receipt.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iots::fw {

enum class Kind : std::uint8_t { temperature, humidity, gas, flame, motion, light };
struct KindInfo {
    const char* name; // the sensor kind of iotshield(7)
    const char* unit;
    int decimals; // resolution published (DHT22: 0.1 °C, 0.1 %)
};
[[nodiscard]] const KindInfo& kind_info(Kind k);

// A reading as the node keeps it until it is sent: the payload is written at send time, so a
// reading taken before NTP synced and sent after gets its ts back from its age.
struct Sample {
    Kind kind = Kind::temperature;
    double value = 0;
    std::uint64_t seq = 0;
    bool over_range = false; // MQ-2 above the chart: value is the cap, "over_range":true added
    const std::string* privacy = nullptr; // edge noise: its `"privacy":{…}` member, added last
};
// {"ts":…,"device":…,"sensor":…,"value":…,"unit":…,"seq":…}
[[nodiscard]] std::string reading_json(std::string_view device, const Sample& s,
                                       std::optional<std::int64_t> ts);

// Why a read gave no reading. Sent as {"kind":"fault","ts":…,"device":…,"sensor":…,"reason":…}
// on <prefix>/faults/<device>; faults take no seq (the readings' seq stays gap-free).
enum class Fault : std::uint8_t {
    dht_no_answer,
    mq2_open,
    mq2_saturated,
    mq2_uncalibrated,
    ldr_saturated
};
[[nodiscard]] const char* fault_reason(Fault f);
[[nodiscard]] std::string fault_json(std::string_view device, Kind sensor, Fault f,
                                     std::optional<std::int64_t> ts);
// {"kind":"fault","ts":…,"device":…,"reason":"offline buffer full: N oldest records
// dropped","dropped":N}
[[nodiscard]] std::string dropped_json(std::string_view device, std::uint64_t dropped,
                                       std::optional<std::int64_t> ts);

} // namespace iots::fw
