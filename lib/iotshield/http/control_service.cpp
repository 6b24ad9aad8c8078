#include "iotshield/http/control_service.hpp"

#include "iotshield/core/printable.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/http/events.hpp"
#include "iotshield/http/json.hpp"
#include "iotshield/record/command.hpp"
#include "iotshield/store/commands.hpp"

#include <random>

namespace iots::http {

namespace {
std::string random_id() {
    static thread_local std::mt19937_64 rng{std::random_device{}() ^
                                            (std::uint64_t{std::random_device{}()} << 32U)};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id(32, '0');
    for (int half = 0; half < 2; ++half) {
        auto v = rng();
        for (int i = 0; i < 16; ++i, v >>= 4U)
            id[static_cast<std::size_t>(half * 16 + i)] = kHex[v & 0xFU];
    }
    return id;
}
} // namespace

ControlService::ControlService(std::string topic_prefix, Publisher* publisher,
                               store::Commands& writer, std::mutex& writer_mutex, EventHub& hub,
                               const core::Logger& log)
    : m_prefix(std::move(topic_prefix)), m_topics(m_prefix), m_publisher(publisher),
      m_writer(writer), m_writer_mutex(writer_mutex), m_hub(hub), m_log(log) {}

nlohmann::json ControlService::send(const CommandRequest& request) {
    store::CommandRow c;
    c.device = request.device;
    c.actuator = request.actuator;
    c.action = request.action;
    if (m_publisher == nullptr)
        throw Unavailable("control: no MQTT broker configured (start iots-serve with -h HOST)");
    c.id = random_id();
    c.ts = core::now_millis();
    c.status = "sent";
    const std::string topic = mqtt::control_topic(m_prefix, c.device); // device validated
    const std::string payload = record::command_json(
        {.id = c.id, .ts = c.ts, .device = c.device, .actuator = c.actuator, .action = c.action});
    auto j = command_json(c);
    j["topic"] = topic;
    {
        std::lock_guard lock(m_writer_mutex);
        m_writer.insert_command(c); // stored before it is sent: the ack can come back at once
    }
    m_hub.publish("command", to_text(j)); // before the answer can be, so "sent" never follows it
    try {
        m_publisher->publish(topic, payload);
    } catch (const std::exception& e) {
        ++m_failures;
        {
            std::lock_guard lock(m_writer_mutex);
            m_writer.record_ack(c.id, "failed", core::now_millis());
        }
        throw Unavailable(std::string("control: could not publish: ") + e.what());
    }
    ++m_sent;
    return j;
}

void ControlService::handle_ack(std::string_view topic, std::string_view payload) {
    const auto device = m_topics.ack_device(topic);
    if (!device)
        return;
    std::string why;
    const auto ack = record::parse_ack(payload, why);
    if (!ack) {
        ++m_ignored;
        m_log.warn("control: ignored an answer on {}: {}", core::printable(topic),
                   core::printable(why));
        return;
    }
    const auto& id = ack->id;
    try {
        std::optional<store::CommandRow> row;
        {
            std::lock_guard lock(m_writer_mutex);
            row = m_writer.command(id);
            // Only the device the command went to may answer it.
            if (!row || row->device != *device) {
                ++m_ignored;
                m_log.warn("control: ignored an answer on {}: no command {} for this device",
                           core::printable(topic), core::printable(id));
                return;
            }
            row = m_writer.record_ack(id, ack->status, core::now_millis());
        }
        if (row) {
            ++m_acks;
            m_hub.publish("command", to_text(command_json(*row)));
        }
    } catch (const std::exception& e) {
        m_log.warn("control: recording the answer to {}: {}", core::printable(id),
                   core::printable(e.what()));
    }
}

ControlService::Counters ControlService::counters() const noexcept {
    return {m_sent.load(), m_acks.load(), m_failures.load(), m_ignored.load()};
}

} // namespace iots::http
