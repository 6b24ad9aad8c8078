#include "iotsfw/sequence.hpp"

namespace iots::fw {

bool Sequence::reserve(std::uint64_t limit) {
    ++m_writes;
    m_limit = limit; // kept in memory even if the write failed: this boot still counts up
    return m_store.put_u64(kSeqKey, limit);
}

bool Sequence::begin() {
    m_next = m_store.get_u64(kSeqKey).value_or(0);
    m_boots = m_store.get_u64(kBootsKey).value_or(0) + 1;
    ++m_writes;
    const bool booted = m_store.put_u64(kBootsKey, m_boots);
    return reserve(m_next + m_block) && booted;
}

std::uint64_t Sequence::next() {
    if (m_next >= m_limit)
        reserve(m_limit + m_block);
    return m_next++;
}

} // namespace iots::fw
