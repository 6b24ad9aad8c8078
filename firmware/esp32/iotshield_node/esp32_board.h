// The ESP32's side of iotsfw/hardware.hpp: DHT22, ADC, GPIO, relays, SNTP time, Serial log,
// flash through Preferences (NVS), MQTT through PubSubClient.
#pragma once
#include "config.h"

#include <Arduino.h>
#include <DHT.h>
#include <Preferences.h>
#include <PubSubClient.h>
#include <sys/time.h>
#include <time.h>

#include <iotsfw/hardware.hpp>

#include <cmath>
#include <string>

class Esp32Board final : public iots::fw::Hardware {
public:
    Esp32Board() : m_dht(PIN_DHT22, DHT22) {}

    void begin() {
        m_dht.begin();
        analogReadResolution(12);
        analogSetPinAttenuation(PIN_MQ2_AO, ADC_11db); // 0 … ~3.1 V
        analogSetPinAttenuation(PIN_LDR, ADC_11db);
        pinMode(PIN_FLAME_DO, INPUT_PULLUP);
        pinMode(PIN_PIR, INPUT);
        for (const int pin : kRelayPins) {
            digitalWrite(pin, RELAY_ACTIVE_LOW ? HIGH : LOW); // off before it is an output
            pinMode(pin, OUTPUT);
        }
    }

    iots::fw::Climate read_dht22() override {
        const float t = m_dht.readTemperature();
        const float h = m_dht.readHumidity();
        iots::fw::Climate c;
        // NaN is the library's "no answer" (timeout or checksum): a fault, never a number.
        c.ok = !std::isnan(t) && !std::isnan(h) && t >= -40 && t <= 80 && h >= 0 && h <= 100;
        c.temperature_c = t;
        c.humidity_pct = h;
        return c;
    }
    std::uint16_t read_mq2_raw() override { return analogRead(PIN_MQ2_AO); }
    std::uint16_t read_ldr_raw() override { return analogRead(PIN_LDR); }
    bool read_flame() override { return digitalRead(PIN_FLAME_DO) == LOW; }
    bool read_pir() override { return digitalRead(PIN_PIR) == HIGH; }
    void set_relay(iots::fw::Actuator a, bool on) override {
        const bool level = RELAY_ACTIVE_LOW ? !on : on;
        digitalWrite(kRelayPins[static_cast<int>(a)], level ? HIGH : LOW);
    }
    std::uint32_t millis() override { return ::millis(); }
    std::optional<std::int64_t> epoch_ms() override {
        struct timeval tv;
        gettimeofday(&tv, nullptr);
        if (tv.tv_sec < 1609459200) // before 2021: SNTP has not answered yet
            return std::nullopt;
        return static_cast<std::int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
    }
    void log(std::string_view line) override {
        Serial.write(reinterpret_cast<const uint8_t*>(line.data()), line.size());
        Serial.write('\n');
    }

private:
    // Indexed by iots::fw::Actuator: fan, valve, buzzer, relay.
    static constexpr int kRelayPins[4] = {PIN_RELAY_FAN, PIN_RELAY_VALVE, PIN_RELAY_BUZZER,
                                          PIN_RELAY_SPARE};
    DHT m_dht;
};

// NVS through Preferences, namespace "iotshield" (keys of at most 15 characters).
class NvsStore final : public iots::fw::Store {
public:
    void begin() { m_prefs.begin("iotshield", false); }
    std::optional<std::uint64_t> get_u64(const char* key) override {
        if (!m_prefs.isKey(key))
            return std::nullopt;
        return m_prefs.getULong64(key, 0);
    }
    bool put_u64(const char* key, std::uint64_t v) override {
        return m_prefs.putULong64(key, v) == sizeof v;
    }
    std::optional<double> get_double(const char* key) override {
        if (!m_prefs.isKey(key))
            return std::nullopt;
        return m_prefs.getDouble(key, 0);
    }
    bool put_double(const char* key, double v) override {
        return m_prefs.putDouble(key, v) == sizeof v;
    }

private:
    Preferences m_prefs;
};

// PubSubClient: QoS 0 publishes, refused while disconnected (the node keeps them).
class PubSubTransport final : public iots::fw::Transport {
public:
    explicit PubSubTransport(PubSubClient& client) : m_client(client) {}
    bool connected() override { return m_client.connected(); }
    bool publish(std::string_view topic, std::string_view payload, bool retain) override {
        const std::string t(topic); // PubSubClient wants a C string
        return m_client.publish(t.c_str(), reinterpret_cast<const uint8_t*>(payload.data()),
                                payload.size(), retain);
    }
    bool subscribe(std::string_view filter) override {
        const std::string f(filter);
        return m_client.subscribe(f.c_str(), 1);
    }

private:
    PubSubClient& m_client;
};
