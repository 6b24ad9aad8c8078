#pragma once
// Collects the messages an mqtt::Client receives, for tests to wait on with a generous deadline.
#include "iotshield/mqtt/client.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace iots::test {

class Inbox {
public:
    // The handler to give to Client::on_message; the Inbox must outlive the client.
    mqtt::Client::MessageHandler handler() {
        return [this](const mqtt::Message& m) {
            {
                std::lock_guard lock(m_mutex);
                m_messages.push_back(m);
            }
            m_changed.notify_all();
        };
    }

    // Waits until at least n messages arrived, up to `seconds`; true if they did.
    bool wait_for(std::size_t n, int seconds = 20) {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_for(lock, std::chrono::seconds(seconds),
                                  [&] { return m_messages.size() >= n; });
    }

    [[nodiscard]] std::vector<mqtt::Message> messages() const {
        std::lock_guard lock(m_mutex);
        return m_messages;
    }
    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock(m_mutex);
        return m_messages.size();
    }

private:
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::vector<mqtt::Message> m_messages;
};

} // namespace iots::test
