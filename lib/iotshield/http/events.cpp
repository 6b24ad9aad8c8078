#include "iotshield/http/events.hpp"

#include "iotshield/core/printable.hpp"
#include "iotshield/http/json.hpp"
#include "iotshield/store/queries.hpp"

#include <chrono>

namespace iots::http {

namespace {
constexpr std::size_t kRing = 4096;
constexpr int kBatch = 500;
} // namespace

EventHub::EventHub(std::string db_path, int poll_ms, const core::Logger& log)
    : m_db_path(std::move(db_path)), m_poll_ms(poll_ms), m_log(log) {}

EventHub::~EventHub() {
    stop();
}

void EventHub::start() {
    m_thread = std::thread([this] { run(); });
}

void EventHub::stop() {
    m_stop = true;
    m_cv.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

void EventHub::publish(std::string type, std::string data) {
    {
        std::lock_guard lock(m_mutex);
        m_ring.push_back(Event{++m_seq, std::move(type), std::move(data)});
        while (m_ring.size() > kRing)
            m_ring.pop_front();
        if (m_on_publish)
            m_on_publish();
    }
    m_cv.notify_all();
}

std::uint64_t EventHub::last_seq() const {
    std::lock_guard lock(m_mutex);
    return m_seq;
}

std::vector<Event> EventHub::since(std::uint64_t after) const {
    std::lock_guard lock(m_mutex);
    std::vector<Event> out;
    if (m_stop || after >= m_seq)
        return out;
    for (const auto& e : m_ring)
        if (e.seq > after)
            out.push_back(e);
    return out;
}

void EventHub::set_on_publish(std::function<void()> f) {
    std::lock_guard lock(m_mutex);
    m_on_publish = std::move(f);
}

void EventHub::run() {
    std::unique_ptr<store::Queries> q;
    store::StreamCursor cur;
    bool have_cursor = false;
    std::int64_t seen_version = -1;
    while (!m_stop) {
        try {
            if (!q) {
                q = std::make_unique<store::Queries>(m_db_path);
                have_cursor = false;
            }
            // Nothing committed since the last poll: nothing to read (one cheap pragma).
            const std::int64_t version = q->data_version();
            if (have_cursor && version == seen_version) {
                ++polls;
                std::unique_lock lock(m_mutex);
                m_cv.wait_for(lock, std::chrono::milliseconds(m_poll_ms),
                              [&] { return m_stop.load(); });
                continue;
            }
            if (!have_cursor) {
                cur = q->cursor_now();
                have_cursor = true;
            }
            // One range scan per series from its cursor (readings has no row id).
            for (const auto& r : q->readings_after(cur, kBatch))
                publish("reading", to_text(reading_json(r)));
            for (const auto& a : q->anomalies_after(cur.anomaly_id, kBatch)) {
                cur.anomaly_id = a.id;
                publish("anomaly", to_text(anomaly_json(a)));
            }
            for (const auto& a : q->alerts_changed(cur.alert_rowid, cur.alert_updated, kBatch)) {
                cur.alert_rowid = std::max(cur.alert_rowid, a.rowid);
                cur.alert_updated = std::max(cur.alert_updated, a.updated_ts.value_or(a.ts));
                publish("alert", to_text(alert_json(a)));
            }
            seen_version = version;
            ++polls;
        } catch (const std::exception& e) {
            ++poll_errors;
            m_log.warn("live stream: {}", core::printable(e.what()));
            q.reset();
        }
        std::unique_lock lock(m_mutex);
        m_cv.wait_for(lock, std::chrono::milliseconds(m_poll_ms), [&] { return m_stop.load(); });
    }
}

} // namespace iots::http
