#pragma once
// What the core needs from a board, and nothing more: the ESP32 sketch implements these over
// DHT, analogRead, digitalRead, Preferences, configTime and PubSubClient; the host tests and
// iots-fw-host implement them over plain memory and libmosquitto. No Arduino header here.
#include <cstdint>
#include <optional>
#include <string_view>

namespace iots::fw {

// A DHT22 read: both values, or a failure (no answer, bad checksum, NaN) and never a guess.
struct Climate {
    bool ok = false;
    double temperature_c = 0;
    double humidity_pct = 0;
};

enum class Actuator : std::uint8_t { fan, valve, buzzer, relay };
inline constexpr int kActuatorCount = 4;

class Hardware {
public:
    virtual ~Hardware() = default;
    virtual Climate read_dht22() = 0;
    // Raw ADC counts (0 … Mq2Config::adc_max / LdrConfig::adc_max).
    virtual std::uint16_t read_mq2_raw() = 0;
    virtual std::uint16_t read_ldr_raw() = 0;
    // True when the sensor says so (the flame module's output is active low: the board inverts).
    virtual bool read_flame() = 0;
    virtual bool read_pir() = 0;
    // Drives the relay of one actuator; true is energised (fan, buzzer on; valve open).
    virtual void set_relay(Actuator a, bool on) = 0;
    // Milliseconds since boot; wraps after 49.7 days (the core only takes differences).
    virtual std::uint32_t millis() = 0;
    // UTC epoch milliseconds once NTP has synced; nullopt before (readings then go without ts).
    virtual std::optional<std::int64_t> epoch_ms() = 0;
    // One line of the node's log (the serial console); no newline.
    virtual void log(std::string_view line) = 0;
};

// Flash-backed key/value storage (NVS through Preferences on the ESP32). Keys are at most 15
// characters (an NVS limit). Every put is a flash write: the core writes rarely.
class Store {
public:
    virtual ~Store() = default;
    [[nodiscard]] virtual std::optional<std::uint64_t> get_u64(const char* key) = 0;
    virtual bool put_u64(const char* key, std::uint64_t value) = 0;
    [[nodiscard]] virtual std::optional<double> get_double(const char* key) = 0;
    virtual bool put_double(const char* key, double value) = 0;
};

// An MQTT connection kept up by the board (it connects with the will the core names, see
// Node::will(), and reconnects on its own). Incoming messages go to Node::on_message().
class Transport {
public:
    virtual ~Transport() = default;
    [[nodiscard]] virtual bool connected() = 0;
    // False when the message was not handed to the connection (then the core keeps it).
    virtual bool publish(std::string_view topic, std::string_view payload, bool retain) = 0;
    virtual bool subscribe(std::string_view filter) = 0;
};

} // namespace iots::fw
