#pragma once
// The node: what the ESP32 sketch runs, minus the hardware calls. The sketch connects the
// transport (with will() as its last will), then calls begin() once and loop() as often as it
// can, and hands every received message to on_message().
//
// Every `interval_ms` it reads the DHT22 (temperature, humidity), the MQ-2 (gas, after its
// warm-up), the flame and PIR inputs and the LDR (light). Flame and motion also go out at once
// when they change. A failed read sends a fault record instead of a reading. Everything sent
// goes through the outbox, so while the broker is away readings wait there (bounded, oldest
// dropped and counted). On each (re)connection: "online" retained on the status topic, the
// control topic subscribed, the outbox flushed (the drop count first).
#include "iotsfw/command.hpp"
#include "iotsfw/edge_noise.hpp"
#include "iotsfw/hardware.hpp"
#include "iotsfw/ldr.hpp"
#include "iotsfw/mq2.hpp"
#include "iotsfw/outbox.hpp"
#include "iotsfw/records.hpp"
#include "iotsfw/sequence.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace iots::fw {

inline constexpr const char* kR0Key = "mq2_r0";

struct NodeConfig {
    std::string device = "esp32-node"; // 1-64 of A-Z a-z 0-9 _ . -
    std::string prefix = "iotshield";
    std::uint32_t interval_ms = 10000;
    std::uint32_t mq2_warmup_ms = 60000; // the heater's first minute gives no usable Rs
    bool mq2_auto_calibrate = true;      // no R0 stored: take the air after warm-up as clean
    int mq2_calibration_samples = 64;
    std::size_t outbox_capacity = 200;
    std::uint32_t seq_block = 1000;
    Mq2Config mq2;
    LdrConfig ldr;
};
// Empty when usable, else what is wrong.
[[nodiscard]] std::string check_config(const NodeConfig& c);

struct NodeStats {
    std::uint64_t readings = 0;  // taken
    std::uint64_t faults = 0;    // reads that failed
    std::uint64_t published = 0; // records handed to the transport (readings, faults, drops)
    std::uint64_t commands = 0, failed_commands = 0, ignored_commands = 0;
    std::uint64_t connects = 0;
};

class Node {
public:
    Node(NodeConfig config, Hardware& hw, Store& store, Transport& transport);

    void begin();
    void loop();
    void on_message(std::string_view topic, std::string_view payload);
    // Clean-air calibration now: R0 = mean Rs / 9.83, stored. False (nothing stored) when the
    // ADC reads 0 or full scale.
    bool calibrate_mq2();
    // Edge noise on every reading from now on (both must outlive the node): temperature,
    // humidity, light and motion noised, gas, flame and heat as they are. A change of motion no
    // longer goes out at once (its time would tell what the noise hides); flame's still does.
    void use_edge_noise(const EdgeNoise& noise, Random& rng) {
        m_noise = &noise;
        m_rng = &rng;
    }

    // The last will the transport must connect with: "offline", retained, on this topic.
    [[nodiscard]] const std::string& will_topic() const noexcept { return m_status_topic; }
    static constexpr const char* kWillPayload = "offline";
    [[nodiscard]] const std::string& control_topic() const noexcept { return m_control_topic; }

    [[nodiscard]] const NodeStats& stats() const noexcept { return m_stats; }
    [[nodiscard]] const Outbox& outbox() const noexcept { return m_outbox; }
    [[nodiscard]] const Sequence& sequence() const noexcept { return m_seq; }
    [[nodiscard]] double mq2_r0_kohm() const noexcept { return m_r0; }

private:
    void sample(std::uint32_t now);
    void reading(Kind k, double value, std::uint32_t now, bool over_range = false);
    void fault(Kind k, Fault f, std::uint32_t now);
    void read_mq2(std::uint32_t now);
    void flush();
    void logf(const char* fmt, ...);

    NodeConfig m_config;
    Hardware& m_hw;
    Store& m_store;
    Transport& m_transport;
    Sequence m_seq;
    Outbox m_outbox;
    NodeStats m_stats;
    std::string m_status_topic, m_control_topic, m_ack_topic, m_fault_topic;

    std::uint32_t m_boot_ms = 0, m_last_sample = 0;
    bool m_sampled = false, m_connected = false;
    bool m_flame = false, m_motion = false, m_motion_latch = false;
    double m_r0 = 0; // kΩ; 0 until calibrated
    const EdgeNoise* m_noise = nullptr;
    Random* m_rng = nullptr;
};

} // namespace iots::fw
