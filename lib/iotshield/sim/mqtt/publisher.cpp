#include "iotshield/sim/mqtt/publisher.hpp"

#include "iotshield/mqtt/client.hpp"

#include <unordered_map>

namespace iots::sim {

struct MqttOutput::Impl {
    core::BrokerOptions options;
    const core::Logger& log;
    std::vector<std::string> names;
    std::vector<std::unique_ptr<mqtt::Client>> clients;
    std::unordered_map<std::string, std::size_t> index;
    bool actuators = false;
    bool closed = true; // nothing to close before connect()

    Impl(const core::BrokerOptions& o, const core::Logger& l) : options(o), log(l) {}
    mqtt::Client& client(std::string_view device) {
        const auto it = index.find(std::string(device));
        return *clients.at(it == index.end() ? 0 : it->second);
    }
};

MqttOutput::MqttOutput(const core::BrokerOptions& options, const core::Logger& log,
                       const std::vector<DeviceSpec>& devices, CommandQueue* commands)
    : m(std::make_unique<Impl>(options, log)) {
    for (std::size_t i = 0; i < devices.size(); ++i) {
        const std::string& name = devices[i].name;
        core::BrokerOptions o = options;
        // -i names the process; each node's client id is <id>-<device>. Without -i the broker
        // assigns one (a fixed default would make two simulators knock each other off).
        if (!o.client_id.empty())
            o.client_id += "-" + name;
        auto client = std::make_unique<mqtt::Client>(o, log);
        const std::string status = mqtt::status_topic(options.topic_prefix, name);
        client->set_will(mqtt::Will{status, "offline", 1, true});
        mqtt::Client* raw = client.get();
        client->on_connect([raw, status] { raw->publish(status, "online", 1, true); });
        if (commands != nullptr) {
            client->on_message(
                [commands, name](const mqtt::Message& msg) { commands->push(name, msg.payload); });
        }
        m->index.emplace(name, i);
        m->names.push_back(name);
        m->clients.push_back(std::move(client));
    }
    m->actuators = commands != nullptr;
}

MqttOutput::~MqttOutput() {
    try {
        close(2000);
    } catch (...) { // NOLINT(bugprone-empty-catch): destructors do not throw; close() logged it
    }
}

void MqttOutput::connect(int patience_ms) {
    m->closed = false;
    for (std::size_t i = 0; i < m->clients.size(); ++i) {
        m->clients[i]->connect(patience_ms);
        if (m->actuators)
            m->clients[i]->subscribe(mqtt::control_topic(m->options.topic_prefix, m->names[i]), 1);
        m->log.debug("{}: connected to {}:{}", m->names[i], m->options.host, m->options.port);
    }
}

void MqttOutput::reading(const record::Reading& r, std::string_view json) {
    m->client(r.device).publish(mqtt::sensor_topic(m->options.topic_prefix, r.device, r.sensor),
                                json, m->options.qos, false);
}

void MqttOutput::ack(std::string_view device, std::string_view json) {
    m->client(device).publish(mqtt::control_topic(m->options.topic_prefix, device) + "/ack", json,
                              1, false);
}

bool MqttOutput::close(int timeout_ms) {
    if (m->closed)
        return true;
    m->closed = true;
    bool ok = true;
    for (std::size_t i = 0; i < m->clients.size(); ++i)
        m->clients[i]->publish(mqtt::status_topic(m->options.topic_prefix, m->names[i]), "offline",
                               1, true);
    for (std::size_t i = 0; i < m->clients.size(); ++i) {
        if (!m->clients[i]->wait_published(timeout_ms)) {
            m->log.warn("{}: not every message was acknowledged by the broker", m->names[i]);
            ok = false;
        }
        m->clients[i]->disconnect();
    }
    return ok;
}

} // namespace iots::sim
