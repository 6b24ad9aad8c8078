#pragma once
// The command lifecycle (DESIGN §2, §3) of iots-serve and iots-act, one implementation for both:
// send: a command is stored as "sent" (before it is published, so its answer can come back at
// once), told to the listener, and published to <prefix>/control/<device>; one the broker does
// not take is settled "failed" at once. ack: the answer on <prefix>/control/<device>/ack settles
// it "done" or "failed" with its latency, if it comes from the device the command went to.
// timeout: a command still "sent" timeout_ms after its ts becomes "timeout" (also one found in the
// database, sent before a restart or by another sender), told to the listener like an answer.
// An answer after that is still the device's answer: it replaces "timeout" and is logged as late.
// The deadline is on the wall clock (ts is): a clock set forward times commands out early.
#include "iotshield/control/publisher.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/mqtt/topics.hpp"
#include "iotshield/store/rows.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace iots::store {
class Commands;
} // namespace iots::store

namespace iots::control {

// What to send: a device of the DESIGN §2 alphabet, an actuator and an action.
struct CommandRequest {
    std::string device;
    std::string actuator;
    std::string action;
};

// A command as sent, and the topic it went to.
struct Sent {
    store::CommandRow row;
    std::string topic;
};

class ControlService {
public:
    // Told of every change of a command: sent (with its topic), answered, failed or timed out
    // (topic empty). Called on the thread that made the change: send()'s, handle_ack()'s (the MQTT
    // network thread) or the timeout thread; it must not call back into the service.
    using Listener = std::function<void(const store::CommandRow& row, std::string_view topic)>;

    // `writer` may be shared with other writes, each use under `writer_mutex`.
    ControlService(std::string topic_prefix, std::int64_t timeout_ms, Publisher* publisher,
                   store::Commands& writer, std::mutex& writer_mutex, Listener listener,
                   const core::Logger& log);
    ~ControlService();
    ControlService(const ControlService&) = delete;
    ControlService& operator=(const ControlService&) = delete;

    // Starts and stops the thread that times commands out (stop is idempotent).
    void start();
    void stop();

    // The command could not be sent (no broker configured, or the broker did not take it).
    class Unavailable : public std::runtime_error {
        using std::runtime_error::runtime_error;
    };
    // Sends the command; returns it as stored, with its topic. Throws Unavailable.
    Sent send(const CommandRequest& request);
    // An answer from <prefix>/control/<device>/ack (on the MQTT thread); anything else is ignored.
    void handle_ack(std::string_view topic, std::string_view payload);

    struct Counters {
        std::uint64_t sent = 0, acks = 0, failures = 0, ignored = 0, timeouts = 0, late = 0;
    };
    [[nodiscard]] Counters counters() const noexcept;

private:
    void expire_loop();
    // Times out what is due; returns when the next command falls due (epoch ms), if one is sent.
    std::optional<std::int64_t> expire_due();
    void settled(const store::CommandRow& row) { m_listener(row, {}); }

    std::string m_prefix;
    std::int64_t m_timeout_ms;
    mqtt::TopicParser m_topics;
    Publisher* m_publisher;
    store::Commands& m_writer;
    std::mutex& m_writer_mutex;
    Listener m_listener;
    const core::Logger& m_log;
    std::atomic<std::uint64_t> m_sent{0}, m_acks{0}, m_failures{0}, m_ignored{0}, m_timeouts{0},
        m_late{0};

    std::mutex m_wake_mutex;
    std::condition_variable m_wake; // a command sent, or stop()
    bool m_stopping = false, m_news = false;
    std::thread m_expirer;
};

} // namespace iots::control
