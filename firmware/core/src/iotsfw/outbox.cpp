#include "iotsfw/outbox.hpp"

namespace iots::fw {

void Outbox::push(const Outgoing& item) {
    if (m_size == m_items.size()) { // full: the oldest goes
        pop();
        ++m_dropped;
        ++m_unreported;
    }
    m_items[(m_head + m_size) % m_items.size()] = item;
    ++m_size;
}

void Outbox::pop() {
    if (m_size == 0)
        return;
    m_head = (m_head + 1) % m_items.size();
    --m_size;
}

} // namespace iots::fw
