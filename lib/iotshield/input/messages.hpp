#pragma once
// The MQTT input: the messages of a subscription, handed to the tool one by one on its own thread,
// with the same limit and diagnostics as a line (`topic a/b: reason`).
#include "iotshield/input/bounded_queue.hpp"
#include "iotshield/input/handler.hpp"
#include "iotshield/mqtt/client.hpp"

#include <cstddef>
#include <cstdint>

namespace iots::input {

// One message: a payload longer than --max-line-bytes is rejected ("topic T: longer than N bytes
// (--max-line-bytes)"), any other handed to handler.record() with its topic as the origin.
// Returns what record() returned (true for a rejected message).
bool deliver(const mqtt::Message& message, Rejects& rejects, Handler& handler);

// A client whose messages are queued by its network thread (at most `capacity`: past that it
// waits, and the broker holds the rest) and handed over by run() on the caller's thread.
class MessageInput {
public:
    // Hazard: a handler that publishes on client() must take kUnbounded. publish() waits while
    // 1000 messages are unacknowledged, and their PUBACKs are read by the network thread, which a
    // full queue holds: the two would wait for each other.
    static constexpr std::size_t kUnbounded = SIZE_MAX;

    // Nothing touches the network until client().connect().
    MessageInput(const core::BrokerOptions& broker, const core::Logger& log, std::size_t capacity);
    // Lets a network thread blocked on the full queue go on, then disconnects the client.
    ~MessageInput() { m_queue.close(); }
    MessageInput(const MessageInput&) = delete;
    MessageInput& operator=(const MessageInput&) = delete;

    // To connect, subscribe and publish.
    [[nodiscard]] mqtt::Client& client() noexcept { return m_client; }

    // Hands every message to deliver() until SIGINT/SIGTERM or the handler says stop; calls
    // handler.poll() after every batch and every wait (200 ms at most), handler.pause() when
    // nothing is queued. Rethrows client().check()'s errors and what the handler and rejects
    // throw.
    End run(Rejects& rejects, Handler& handler);

private:
    BoundedQueue<mqtt::Message> m_queue; // before the client: its network thread pushes here
    mqtt::Client m_client;
};

} // namespace iots::input
