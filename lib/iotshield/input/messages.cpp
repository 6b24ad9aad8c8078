#include "iotshield/input/messages.hpp"

#include "iotshield/core/signals.hpp"
#include "iotshield/input/wait.hpp"

#include <algorithm>

namespace iots::input {

namespace {

// The longest wait: a signal may be delivered to another thread than the one that waits.
constexpr int kMaxWaitMs = 200;

} // namespace

bool deliver(const mqtt::Message& message, Rejects& rejects, Handler& handler) {
    const Origin origin{.topic = message.topic};
    if (message.payload.size() > rejects.policy().max_line_bytes) {
        handler.skipped(origin);
        rejects.too_long(origin);
        return true;
    }
    return handler.record(message.payload, origin);
}

MessageInput::MessageInput(const core::BrokerOptions& broker, const core::Logger& log,
                           std::size_t capacity)
    : m_queue(capacity), m_client(broker, log) {
    m_client.on_message([this](const mqtt::Message& m) { m_queue.push(m); });
}

End MessageInput::run(Rejects& rejects, Handler& handler) {
    std::vector<mqtt::Message> batch;
    for (;;) {
        if (core::stop_requested())
            return End::stop;
        m_client.check();
        if (!handler.poll())
            return End::handler;
        if (!m_queue.pop_all(batch, std::chrono::milliseconds(0))) {
            handler.pause();
            const int limit = handler.wait_ms();
            wait_readable(m_queue.fd(), handler.wake_fd(),
                          limit < 0 ? kMaxWaitMs : std::min(limit, kMaxWaitMs));
            continue;
        }
        for (const auto& m : batch)
            if (!deliver(m, rejects, handler))
                return End::handler;
    }
}

} // namespace iots::input
