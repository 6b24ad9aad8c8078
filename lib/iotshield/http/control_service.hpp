#pragma once
// The command lifecycle of iots-serve (DESIGN §2, §3), which the HTTP server only routes to:
// send: a command is stored as "sent" (before it is published, so its answer can come back at
// once), told to the live stream, and published to <prefix>/control/<device>; one the broker does
// not take is settled "failed" at once. ack: the answer on <prefix>/control/<device>/ack settles
// it "done" or "failed" with its latency, if it comes from the device the command went to.
// A command that no device answers stays "sent": there is no timeout.
#include "iotshield/core/log.hpp"
#include "iotshield/http/control.hpp"
#include "iotshield/http/publisher.hpp"
#include "iotshield/mqtt/topics.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>

namespace iots::store {
class Commands;
}

namespace iots::http {

class EventHub;

class ControlService {
public:
    // `writer` is shared with the alert status changes, each use under `writer_mutex`.
    ControlService(std::string topic_prefix, Publisher* publisher, store::Commands& writer,
                   std::mutex& writer_mutex, EventHub& hub, const core::Logger& log);

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
        std::uint64_t sent = 0, acks = 0, failures = 0, ignored = 0;
    };
    [[nodiscard]] Counters counters() const noexcept;

private:
    std::string m_prefix;
    mqtt::TopicParser m_topics;
    Publisher* m_publisher;
    store::Commands& m_writer;
    std::mutex& m_writer_mutex;
    EventHub& m_hub;
    const core::Logger& m_log;
    std::atomic<std::uint64_t> m_sent{0}, m_acks{0}, m_failures{0}, m_ignored{0};
};

} // namespace iots::http
