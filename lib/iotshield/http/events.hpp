#pragma once
// The live stream behind GET /api/stream. One poller thread reads rows newer than its cursor
// (readings, anomalies, alerts new or changed) from its own read-only connection every poll_ms and
// appends them to a bounded ring of events; each SSE client is sent the ring from its own
// sequence number when told of new events (set_on_publish). Clients that fall more than the ring
// behind skip ahead (a dashboard wants the present, not a backlog).
#include "iotshield/core/log.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace iots::http {

struct Event {
    std::uint64_t seq = 0;
    std::string type; // reading | anomaly | alert | command
    std::string data; // one line of JSON
};

class EventHub {
public:
    EventHub(std::string db_path, int poll_ms, const core::Logger& log);
    ~EventHub();
    EventHub(const EventHub&) = delete;
    EventHub& operator=(const EventHub&) = delete;

    void start(); // starts the poller; the stream begins at the rows present now
    void stop();  // wakes every waiting client; they end their streams

    void publish(std::string type, std::string data);
    // The events after `after` still in the ring (none once stopping).
    [[nodiscard]] std::vector<Event> since(std::uint64_t after) const;
    // Called after each publish (on the publishing thread, under the hub's lock: it must only
    // hand the news on, as to another thread's queue); nullptr to stop.
    void set_on_publish(std::function<void()> f);
    [[nodiscard]] std::uint64_t last_seq() const;
    [[nodiscard]] bool stopping() const noexcept { return m_stop.load(); }

    std::atomic<int> clients{0};
    std::atomic<std::uint64_t> polls{0};
    std::atomic<std::uint64_t> poll_errors{0};

private:
    void run();

    std::string m_db_path;
    int m_poll_ms;
    const core::Logger& m_log;
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<Event> m_ring;
    std::function<void()> m_on_publish;
    std::uint64_t m_seq = 0;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

} // namespace iots::http
