#include "iotshield/ha/service.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/ha/discovery.hpp"
#include "iotshield/ha/states.hpp"
#include "iotshield/input/messages.hpp"
#include "iotshield/mqtt/ha_topics.hpp"
#include "iotshield/mqtt/topics.hpp"
#include "iotshield/record/parser.hpp"
#include "iotshield/record/sensor.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace iots::ha {

namespace {

using Kind = mqtt::HaTopicParser::Kind;

class Bridge final : public input::Handler {
public:
    Bridge(const Options& o, const core::Logger& log, mqtt::Client& client)
        : m_log(log), m_client(client), m_rejects(o.input, log),
          m_topics(o.broker.topic_prefix, o.discovery),
          m_states(o.gas_danger_ppm, o.clear_after_ms) {
        m_names.topic_prefix = o.broker.topic_prefix;
        m_names.discovery = o.discovery;
    }

    input::Rejects& rejects() noexcept { return m_rejects; }

    bool record(std::string_view text, const input::Origin& origin) override {
        const auto t = m_topics.parse(origin.topic);
        switch (t.kind) {
        case Kind::ha_birth:
            if (text == "online")
                announce_all();
            break;
        case Kind::ha_state:
            // What an earlier run left (retained, read before any device is seen). Once a device
            // is seen this run's states are the truth, and what comes back on these topics is
            // only the echo of what iots-ha itself published.
            if (m_devices.find(t.device) == m_devices.end())
                m_states.restore(t.device, t.name, text, core::now_millis());
            break;
        case Kind::status:
            if (text != "online" && text != "offline")
                return reject(origin, "status: not online or offline");
            if (valid_device(t.device, origin))
                see_device(t.device, {});
            break;
        case Kind::reading:
            on_reading(t.device, t.name, text, origin);
            break;
        case Kind::anomaly:
            on_anomaly(t.device, text, origin);
            break;
        case Kind::alert:
            on_alert(t.device, text, origin);
            break;
        case Kind::other:
            break; // the seed's <prefix>/sensors/data and the like: not a series of its own
        }
        return true;
    }

    bool poll() override {
        for (auto& c : m_states.expire(core::now_millis()))
            publish_state(c);
        return true;
    }
    [[nodiscard]] int wait_ms() const override { return 1000; }

    void summary() const {
        m_log.info("{} devices, {} configs published, {} states published, {} rejected",
                   m_devices.size(), m_config_count, m_state_count, m_rejects.count());
    }

private:
    bool reject(const input::Origin& origin, std::string_view reason) {
        m_rejects.reject(origin, reason);
        return true;
    }

    bool valid_device(std::string_view device, const input::Origin& origin) {
        if (record::valid_name(device))
            return true;
        reject(origin, "device: not 1-64 of A-Z a-z 0-9 _ . -");
        return false;
    }

    void on_reading(std::string_view device, std::string_view sensor, std::string_view text,
                    const input::Origin& origin) {
        if (!m_parser.parse(text, m_reading)) {
            reject(origin, m_parser.error());
            return;
        }
        if (m_reading.device != device || m_reading.sensor != sensor) {
            reject(origin, "device and sensor differ from the topic's");
            return;
        }
        see_device(device, m_reading.location);
        see_sensor(device, sensor, m_reading.unit, m_reading.location);
        if (record::sensor_kind(sensor) == record::SensorKind::gas)
            if (auto c = m_states.gas(device, m_reading.value))
                publish_state(*c);
    }

    void on_anomaly(std::string_view device, std::string_view text, const input::Origin& origin) {
        if (!m_parser.parse(text, m_reading)) {
            reject(origin, m_parser.error());
            return;
        }
        if (m_reading.device != device) {
            reject(origin, "device differs from the topic's");
            return;
        }
        see_device(device, m_reading.location);
        if (m_reading.anomaly.value_or(false))
            if (auto c = m_states.anomaly(device, core::now_millis()))
                publish_state(*c);
    }

    void on_alert(std::string_view device, std::string_view text, const input::Origin& origin) {
        if (!valid_device(device, origin))
            return;
        const auto j = nlohmann::json::parse(text, nullptr, false);
        if (j.is_discarded() || !j.is_object())
            return (void)reject(origin, "not a JSON object");
        const auto severity = j.find("severity");
        if (severity == j.end() || !severity->is_string() ||
            !States::valid_severity(severity->get<std::string>()) ||
            severity->get<std::string>() == "none")
            return (void)reject(origin, "severity: not LOW, MEDIUM, HIGH or CRITICAL");
        std::string event;
        if (const auto e = j.find("event"); e != j.end() && e->is_string())
            event = e->get<std::string>();
        std::string location;
        if (const auto l = j.find("location"); l != j.end() && l->is_string())
            location = l->get<std::string>();
        see_device(device, location);
        if (auto c = m_states.alert(device, severity->get<std::string>(), event))
            publish_state(*c);
    }

    struct DeviceSeen {
        std::string location;
        std::map<std::string, std::string, std::less<>> sensors; // sensor -> unit
    };

    void see_device(std::string_view device, std::string_view location) {
        auto it = m_devices.find(device);
        if (it != m_devices.end()) {
            // The room first known after the device: announced again with its suggested area.
            if (it->second.location.empty() && !location.empty()) {
                it->second.location = location;
                announce_device(device, it->second);
            }
            return;
        }
        it = m_devices.emplace(std::string(device), DeviceSeen{std::string(location), {}}).first;
        m_log.debug("new device {}", device);
        announce_device(device, it->second);
        for (auto& c : m_states.first_seen(device))
            publish_state(c);
    }

    void see_sensor(std::string_view device, std::string_view sensor, std::string_view unit,
                    std::string_view location) {
        DeviceSeen& d = m_devices.find(device)->second;
        if (d.sensors.find(sensor) != d.sensors.end())
            return;
        d.sensors.emplace(std::string(sensor), std::string(unit));
        for (auto& c : sensor_configs(m_names, device, sensor, unit, location))
            publish_config(c);
    }

    void announce_device(std::string_view device, const DeviceSeen& d) {
        for (auto& c : device_configs(m_names, device, d.location))
            publish_config(c);
        for (const auto& [sensor, unit] : d.sensors)
            for (auto& c : sensor_configs(m_names, device, sensor, unit, d.location))
                publish_config(c);
    }

    void announce_all() {
        m_log.info("Home Assistant is online: announcing {} devices again", m_devices.size());
        for (const auto& [device, d] : m_devices)
            announce_device(device, d);
    }

    void publish_config(const Config& c) {
        // Two entities on one config topic (devices "a.b" and "a_b" share a node id): the first
        // keeps it, the other is left out, said once.
        auto [it, fresh] = m_owners.emplace(c.topic, c.unique_id);
        if (!fresh && it->second != c.unique_id) {
            if (m_clashes.emplace(c.unique_id).second)
                m_log.warn("{}: already the config of {}: {} left out", c.topic, it->second,
                           c.unique_id);
            return;
        }
        m_client.publish(c.topic, c.payload, 1, true);
        ++m_config_count;
    }

    void publish_state(const StateChange& c) {
        m_client.publish(mqtt::ha_state_topic(m_names.topic_prefix, c.device, c.state), c.value, 1,
                         true);
        ++m_state_count;
    }

    const core::Logger& m_log;
    mqtt::Client& m_client;
    input::Rejects m_rejects;
    mqtt::HaTopicParser m_topics;
    States m_states;
    Names m_names;
    record::Parser m_parser;
    record::Reading m_reading;
    std::map<std::string, DeviceSeen, std::less<>> m_devices;
    std::map<std::string, std::string, std::less<>> m_owners; // config topic -> unique_id
    std::set<std::string, std::less<>> m_clashes;
    std::uint64_t m_config_count = 0, m_state_count = 0;
};

} // namespace

int run(const Options& o, const core::Logger& log) {
    if (!o.broker.enabled())
        throw Error(Exit::usage, "a broker is required (-h HOST or IOTS_BROKER)");
    // Unbounded: the handler publishes on the client (see MessageInput's hazard).
    input::MessageInput messages(o.broker, log, input::MessageInput::kUnbounded);
    mqtt::Client& client = messages.client();
    const std::string bridge = mqtt::ha_bridge_topic(o.broker.topic_prefix);
    client.set_will(mqtt::Will{bridge, "offline", 1, true});
    // Online only once subscribed (a reconnect resubscribes first): whoever waits for it may
    // start publishing.
    auto subscribed = std::make_shared<std::atomic<bool>>(false);
    client.on_connect([&client, bridge, subscribed] {
        if (*subscribed)
            client.publish(bridge, "online", 1, true);
    });
    Bridge b(o, log, client);
    client.connect();
    // Its own states first: their retained values arrive before any device is seen, so a restart
    // does not overwrite them.
    const std::string& prefix = o.broker.topic_prefix;
    client.subscribe(mqtt::ha_states_filter(prefix), o.broker.qos, false);
    client.subscribe(mqtt::status_filter(prefix), o.broker.qos, false);
    client.subscribe(mqtt::sensors_filter(prefix), o.broker.qos, false);
    client.subscribe(mqtt::anomalies_filter(prefix), o.broker.qos, false);
    client.subscribe(mqtt::alerts_filter(prefix), o.broker.qos, false);
    client.subscribe(mqtt::ha_birth_topic(o.discovery), o.broker.qos, false);
    *subscribed = true;
    client.publish(bridge, "online", 1, true);
    messages.run(b.rejects(), b);
    client.publish(bridge, "offline", 1, true);
    client.wait_published(2000);
    b.summary();
    client.disconnect();
    return 0;
}

} // namespace iots::ha
