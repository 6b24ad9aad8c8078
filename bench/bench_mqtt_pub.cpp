// bench_mqtt_pub: publishes each line of stdin as one MQTT message, as fast as the broker takes
// them (mqtt::Client's back-pressure bounds what is in flight), then waits until all are
// acknowledged. Stands in for `mosquitto_pub -l`, which in 2.0.11 stops early at QoS 1 on a large
// input.
//
//   bench_mqtt_pub HOST PORT QOS TOPIC < lines
#include "iotshield/core/error.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/mqtt/client.hpp"

#include <cstdio>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fputs("usage: bench_mqtt_pub HOST PORT QOS TOPIC < lines\n", stderr);
        return 2;
    }
    iots::core::Logger log("bench_mqtt_pub", iots::core::Level::warning);
    try {
        iots::core::BrokerOptions o;
        o.host = argv[1];
        o.port = std::stoi(argv[2]);
        const int qos = std::stoi(argv[3]);
        const std::string topic = argv[4];
        iots::mqtt::Client client(o, log);
        client.connect();
        std::ios::sync_with_stdio(false);
        std::string line;
        std::uint64_t n = 0;
        while (std::getline(std::cin, line)) {
            client.publish(topic, line, qos);
            ++n;
        }
        if (!client.wait_published(120000)) {
            log.error("not all messages were acknowledged within 120 s");
            return 1;
        }
        client.disconnect();
        auto c = client.counters();
        if (c.dropped != 0) {
            log.error("{} of {} messages dropped", c.dropped, n);
            return 1;
        }
        return 0;
    } catch (const iots::Error& e) {
        log.error("{}", e.what());
        return static_cast<int>(e.code());
    }
}
