#include "iotshield/score/score_queue.hpp"

namespace iots::score {

void ScoreQueue::push(const record::Reading& r, core::Millis at) {
    std::unique_lock lock(m_mu);
    m_room.wait(lock, [&] { return m_queued.size() < m_max || m_leaving; });
    m_queued.emplace_back(r, at);
}

void ScoreQueue::write_to(ScoreStore& store) {
    {
        const std::lock_guard lock(m_mu);
        m_writing.swap(m_queued);
    }
    m_room.notify_all();
    for (const auto& [reading, at] : m_writing)
        store.write(reading, at);
    m_writing.clear();
}

void ScoreQueue::leave() {
    {
        const std::lock_guard lock(m_mu);
        m_leaving = true;
    }
    m_room.notify_all();
}

} // namespace iots::score
