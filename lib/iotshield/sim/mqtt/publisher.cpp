#include "iotshield/sim/mqtt/publisher.hpp"

#include "iotshield/mqtt/client_group.hpp"

#include <unordered_map>

namespace iots::sim {

struct MqttOutput::Impl {
    core::BrokerOptions options;
    const core::Logger& log;
    std::vector<std::string> names;
    mqtt::ClientGroup group;
    std::unordered_map<std::string, std::size_t> index;
    bool closed = true; // nothing to close before connect()

    Impl(const core::BrokerOptions& o, const core::Logger& l) : options(o), log(l), group(o, l) {}
    std::string last_device; // a node's readings come together: one lookup for all of them
    std::size_t last_member = 0;

    std::size_t member(std::string_view device) {
        if (device != last_device) {
            const auto it = index.find(std::string(device));
            last_member = it == index.end() ? 0 : it->second;
            last_device = device;
        }
        return last_member;
    }
};

MqttOutput::MqttOutput(const core::BrokerOptions& options, const core::Logger& log,
                       const std::vector<DeviceSpec>& devices, CommandQueue* commands)
    : m(std::make_unique<Impl>(options, log)) {
    for (const DeviceSpec& device : devices) {
        const std::string& name = device.name;
        mqtt::MemberOptions node;
        // -i names the process; each node's client id is <id>-<device>. Without -i the broker
        // assigns one (a fixed default would make two simulators knock each other off).
        if (!options.client_id.empty())
            node.client_id = options.client_id + "-" + name;
        const std::string status = mqtt::status_topic(options.topic_prefix, name);
        node.will = mqtt::Will{status, "offline", 1, true};
        node.birth = mqtt::Message{status, "online", 1, true};
        if (commands != nullptr)
            node.subscriptions.emplace_back(mqtt::control_topic(options.topic_prefix, name), 1);
        m->index.emplace(name, m->group.add(node));
        m->names.push_back(name);
    }
    if (commands != nullptr) {
        m->group.on_message(
            [commands, names = m->names](std::size_t node, const mqtt::Message& msg) {
                commands->push(names[node], msg.payload);
            });
    }
}

MqttOutput::~MqttOutput() {
    try {
        close(2000);
    } catch (...) { // NOLINT(bugprone-empty-catch): destructors do not throw; close() logged it
    }
}

void MqttOutput::connect(int patience_ms) {
    m->closed = false;
    m->group.connect(patience_ms);
    m->log.debug("{} nodes connected to {}:{}", m->names.size(), m->options.host, m->options.port);
}

void MqttOutput::reading(const record::Reading& r, std::string_view json) {
    m->group.publish(m->member(r.device),
                     mqtt::sensor_topic(m->options.topic_prefix, r.device, r.sensor), json,
                     m->options.qos, false);
}

void MqttOutput::ack(std::string_view device, std::string_view json) {
    m->group.publish(m->member(device), mqtt::ack_topic(m->options.topic_prefix, device), json, 1,
                     false);
}

bool MqttOutput::close(int timeout_ms) {
    if (m->closed)
        return true;
    m->closed = true;
    // Only nodes that came online say they go offline; the others never said anything.
    for (std::size_t i = 0; i < m->names.size(); ++i)
        if (m->group.connected(i))
            m->group.publish(i, mqtt::status_topic(m->options.topic_prefix, m->names[i]), "offline",
                             1, true);
    const bool ok = m->group.wait_published(timeout_ms);
    if (!ok)
        m->log.warn("{} messages were not acknowledged by the broker", m->group.unacknowledged());
    m->group.disconnect(1000);
    return ok;
}

} // namespace iots::sim
