#pragma once
// The command lifecycle of iots-serve (DESIGN §2, §3), which the HTTP server only routes to:
// send: a command is stored as "sent" (before it is published, so its answer can come back at
// once), told to the live stream, and published to <prefix>/control/<device>; one the broker does
// not take is settled "failed" at once. ack: the answer on <prefix>/control/<device>/ack settles
// it "done" or "failed" with its latency, if it comes from the device the command went to.
// timeout: a command still "sent" timeout_ms after its ts becomes "timeout" (also one found in the
// database, sent before a restart or by another server), told to the live stream like an answer.
// An answer after that is still the device's answer: it replaces "timeout" and is logged as late.
// The deadline is on the wall clock (ts is): a clock set forward times commands out early.
#include "iotshield/core/log.hpp"
#include "iotshield/http/control.hpp"
#include "iotshield/http/publisher.hpp"
#include "iotshield/mqtt/topics.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace iots::store {
class Commands;
struct CommandRow;
} // namespace iots::store

namespace iots::http {

class EventHub;

class ControlService {
public:
    // `writer` is shared with the alert status changes, each use under `writer_mutex`.
    ControlService(std::string topic_prefix, std::int64_t timeout_ms, Publisher* publisher,
                   store::Commands& writer, std::mutex& writer_mutex, EventHub& hub,
                   const core::Logger& log);
    ~ControlService();
    ControlService(const ControlService&) = delete;
    ControlService& operator=(const ControlService&) = delete;

    // Starts and stops the thread that times commands out (stop is idempotent).
    void start();
    void stop();

    // The command could not be sent (no broker configured, or the broker did not take it): the
    // message is the API's answer (503).
    class Unavailable : public std::runtime_error {
        using std::runtime_error::runtime_error;
    };
    // Sends the command; returns it as the API shows it, with its "topic". Throws Unavailable.
    nlohmann::json send(const CommandRequest& request);
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
    void settled(const store::CommandRow& row); // tells the live stream

    std::string m_prefix;
    std::int64_t m_timeout_ms;
    mqtt::TopicParser m_topics;
    Publisher* m_publisher;
    store::Commands& m_writer;
    std::mutex& m_writer_mutex;
    EventHub& m_hub;
    const core::Logger& m_log;
    std::atomic<std::uint64_t> m_sent{0}, m_acks{0}, m_failures{0}, m_ignored{0}, m_timeouts{0},
        m_late{0};

    std::mutex m_wake_mutex;
    std::condition_variable m_wake; // a command sent, or stop()
    bool m_stopping = false, m_news = false;
    std::thread m_expirer;
};

} // namespace iots::http
