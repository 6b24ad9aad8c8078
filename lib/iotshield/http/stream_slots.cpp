#include "iotshield/http/stream_slots.hpp"

namespace iots::http {

bool StreamSlots::take(const std::string& client) {
    std::lock_guard lock(m_mutex);
    if (m_open >= m_total)
        return false;
    auto& mine = m_by_client[client];
    if (mine >= m_per_client)
        return false;
    ++mine;
    ++m_open;
    return true;
}

void StreamSlots::give_back(const std::string& client) {
    std::lock_guard lock(m_mutex);
    const auto it = m_by_client.find(client);
    if (it == m_by_client.end())
        return;
    --m_open;
    if (--it->second <= 0)
        m_by_client.erase(it);
}

} // namespace iots::http
