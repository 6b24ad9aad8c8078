#include "iotshield/control/service.hpp"

#include "iotshield/core/printable.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/record/command.hpp"
#include "iotshield/store/commands.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <vector>

namespace iots::control {

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

ControlService::ControlService(std::string topic_prefix, std::int64_t timeout_ms,
                               Publisher* publisher, store::Commands& writer,
                               std::mutex& writer_mutex, Listener listener, const core::Logger& log)
    : m_prefix(std::move(topic_prefix)), m_timeout_ms(timeout_ms), m_topics(m_prefix),
      m_publisher(publisher), m_writer(writer), m_writer_mutex(writer_mutex),
      m_listener(std::move(listener)), m_log(log) {
    if (m_timeout_ms <= 0)
        throw std::invalid_argument("control: the command timeout must be positive");
}

ControlService::~ControlService() {
    stop();
}

void ControlService::start() {
    std::lock_guard lock(m_wake_mutex);
    if (!m_expirer.joinable() && !m_stopping)
        m_expirer = std::thread([this] { expire_loop(); });
}

void ControlService::stop() {
    std::thread expirer;
    {
        std::lock_guard lock(m_wake_mutex);
        m_stopping = true;
        expirer = std::move(m_expirer);
    }
    m_wake.notify_all();
    if (expirer.joinable())
        expirer.join();
}

void ControlService::expire_loop() {
    bool failing = false;
    std::unique_lock lock(m_wake_mutex);
    while (!m_stopping) {
        m_news = false;
        lock.unlock();
        // Idle, it still looks now and then: another server may send into the same database.
        std::int64_t wait_ms = std::max<std::int64_t>(m_timeout_ms, 1000);
        try {
            if (const auto due = expire_due())
                wait_ms = std::clamp<std::int64_t>(*due - core::now_millis(), 1, m_timeout_ms);
            failing = false;
        } catch (const std::exception& e) {
            if (!failing) // once per run of failures (a read-only file fails every time)
                m_log.warn("control: timing out unanswered commands: {}",
                           core::printable(e.what()));
            failing = true;
        }
        lock.lock();
        m_wake.wait_for(lock, std::chrono::milliseconds(wait_ms),
                        [this] { return m_stopping || m_news; });
    }
}

std::optional<std::int64_t> ControlService::expire_due() {
    std::vector<store::CommandRow> expired;
    std::optional<std::int64_t> oldest;
    {
        std::lock_guard lock(m_writer_mutex);
        oldest = m_writer.oldest_sent();
        const auto sent_before = core::now_millis() - m_timeout_ms;
        if (oldest && *oldest <= sent_before) {
            expired = m_writer.time_out(sent_before);
            oldest = m_writer.oldest_sent();
        }
    }
    for (const auto& row : expired) {
        ++m_timeouts;
        m_log.info("control: command {} to {} timed out: no answer in {} ms",
                   core::printable(row.id), core::printable(row.device), m_timeout_ms);
        settled(row);
    }
    if (!oldest)
        return std::nullopt;
    return *oldest + m_timeout_ms;
}

Sent ControlService::send(const CommandRequest& request) {
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
    {
        std::lock_guard lock(m_writer_mutex);
        m_writer.insert_command(c); // stored before it is sent: the ack can come back at once
    }
    m_listener(c, topic); // before the answer can be, so "sent" never follows it
    {
        std::lock_guard lock(m_wake_mutex); // its deadline may come before the expirer's next look
        m_news = true;
    }
    m_wake.notify_all();
    try {
        m_publisher->publish(topic, payload);
    } catch (const std::exception& e) {
        ++m_failures;
        std::optional<store::CommandRow> row;
        {
            std::lock_guard lock(m_writer_mutex);
            row = m_writer.record_ack(c.id, "failed", core::now_millis());
        }
        if (row)
            settled(*row);
        throw Unavailable(std::string("control: could not publish: ") + e.what());
    }
    ++m_sent;
    return {std::move(c), topic};
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
        bool timed_out = false;
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
            timed_out = row->status == "timeout";
            row = m_writer.record_ack(id, ack->status, core::now_millis());
        }
        if (row) {
            ++m_acks;
            if (timed_out && row->status != "timeout") {
                ++m_late;
                m_log.warn("control: late answer to command {} from {}: {} after {} ms (timed "
                           "out after {} ms)",
                           core::printable(id), core::printable(*device), row->status,
                           row->latency_ms.value_or(0), m_timeout_ms);
            }
            settled(*row);
        }
    } catch (const std::exception& e) {
        m_log.warn("control: recording the answer to {}: {}", core::printable(id),
                   core::printable(e.what()));
    }
}

ControlService::Counters ControlService::counters() const noexcept {
    return {m_sent.load(),    m_acks.load(),     m_failures.load(),
            m_ignored.load(), m_timeouts.load(), m_late.load()};
}

} // namespace iots::control
