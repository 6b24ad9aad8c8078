// IoTShield ESP32 node: DHT22, MQ-2, flame, PIR and LDR readings over MQTT per iotshield(7);
// relays for a fan, a gas valve, a buzzer and a spare, driven by commands on its control topic.
// Everything but the hardware calls is the portable core in firmware/core (iotsfw/), tested on
// the host. Wiring and settings: config.h; credentials: secrets.h (copy secrets.example.h).
#include "config.h"
#include "esp32_board.h"
#if __has_include("secrets.h")
#include "secrets.h"
#else
#error "copy secrets.example.h to secrets.h and fill it in"
#endif

#include <WiFi.h>
#ifdef SECRET_MQTT_CA_CERT
#include <WiFiClientSecure.h>
#endif

#include <iotsfw/node.hpp>

#include <string>
#include <utility>
#include <vector>

namespace {

Esp32Board board;
NvsStore flash;
#ifdef SECRET_MQTT_CA_CERT
WiFiClientSecure net;
#else
WiFiClient net;
#endif
PubSubClient mqtt(net);
PubSubTransport transport(mqtt);
iots::fw::Node* node = nullptr;

// Messages are copied out of PubSubClient's buffer (an ack published from the callback would
// overwrite it) and handed to the node from loop().
std::vector<std::pair<std::string, std::string>> inbox;
std::uint32_t last_attempt = 0, backoff_ms = 1000;
String serial_line;

iots::fw::NodeConfig node_config() {
    iots::fw::NodeConfig c;
    c.device = SECRET_DEVICE;
    c.prefix = NODE_TOPIC_PREFIX;
    c.interval_ms = NODE_INTERVAL_MS;
    c.mq2_warmup_ms = NODE_MQ2_WARMUP_MS;
    c.outbox_capacity = NODE_OUTBOX;
    c.mq2.rl_kohm = MQ2_RL_KOHM;
    c.mq2.divider_k = MQ2_DIVIDER_K;
    return c;
}

void on_mqtt(char* topic, byte* payload, unsigned int length) {
    if (inbox.size() < 16) // a flood of commands is not queued without bound either
        inbox.emplace_back(topic, std::string(reinterpret_cast<const char*>(payload), length));
}

// Non-blocking: one attempt, then back off up to a minute; the node keeps buffering meanwhile.
void keep_connected() {
    if (WiFi.status() != WL_CONNECTED || mqtt.connected())
        return;
    const std::uint32_t now = millis();
    if (now - last_attempt < backoff_ms)
        return;
    last_attempt = now;
    const bool ok = mqtt.connect(SECRET_DEVICE, SECRET_MQTT_USER, SECRET_MQTT_PASSWORD,
                                 node->will_topic().c_str(), 1, true,
                                 iots::fw::Node::kWillPayload);
    if (ok) {
        backoff_ms = 1000;
        Serial.println("mqtt: connected");
    } else {
        backoff_ms = backoff_ms < 60000 ? backoff_ms * 2 : 60000;
        Serial.printf("mqtt: connect failed (state %d), next try in %lu ms\n", mqtt.state(),
                      static_cast<unsigned long>(backoff_ms));
    }
}

// "calibrate" (in clean air, after the warm-up) stores a new MQ-2 R0; "stats" prints counters.
void serial_commands() {
    while (Serial.available() > 0) {
        const char ch = static_cast<char>(Serial.read());
        if (ch != '\n') {
            if (serial_line.length() < 32)
                serial_line += ch;
            continue;
        }
        serial_line.trim();
        if (serial_line == "calibrate") {
            node->calibrate_mq2();
        } else if (serial_line == "stats") {
            const auto& s = node->stats();
            Serial.printf("readings %llu, faults %llu, published %llu, buffered %u, dropped %llu, "
                          "commands %llu (%llu failed)\n",
                          s.readings, s.faults, s.published,
                          static_cast<unsigned>(node->outbox().size()), node->outbox().dropped(),
                          s.commands, s.failed_commands);
        }
        serial_line = "";
    }
}

} // namespace

void setup() {
    Serial.begin(115200);
    board.begin();
    flash.begin();
    static iots::fw::Node the_node(node_config(), board, flash, transport);
    node = &the_node;
    if (const std::string problem = iots::fw::check_config(node_config()); !problem.empty())
        Serial.printf("config: %s\n", problem.c_str());

    WiFi.mode(WIFI_STA);
    WiFi.setAutoReconnect(true);
    WiFi.begin(SECRET_WIFI_SSID, SECRET_WIFI_PASSWORD);
    configTime(0, 0, NODE_NTP_1, NODE_NTP_2); // UTC; readings go without ts until it answers
#ifdef SECRET_MQTT_CA_CERT
    net.setCACert(SECRET_MQTT_CA_CERT);
#endif
    mqtt.setServer(SECRET_MQTT_HOST, SECRET_MQTT_PORT);
    mqtt.setBufferSize(512); // commands and acks are longer than the default 256
    mqtt.setKeepAlive(15);
    mqtt.setCallback(on_mqtt);
    node->begin();
}

void loop() {
    keep_connected();
    mqtt.loop();
    for (const auto& m : inbox)
        node->on_message(m.first, m.second);
    inbox.clear();
    node->loop();
    serial_commands();
    delay(10);
}
