#pragma once
// seq numbers that only grow, across reboots, without a flash write per reading. The store keeps
// a high-water mark: every number below it may have been used. At boot the counter starts at the
// mark and reserves a block above it (one write); when the block is used up it reserves the next
// (one write per `block` readings). A reboot therefore skips what was left of the block (fewer
// than `block` numbers: the hub sees a gap, never a repeat). With block 1000 and a reading every
// 2 s that is one write per 33 min; NVS spreads writes over its pages, so the flash's 100,000
// erase cycles per sector last for decades.
#include "iotsfw/hardware.hpp"

#include <cstdint>

namespace iots::fw {

inline constexpr const char* kSeqKey = "seq_hw";
inline constexpr const char* kBootsKey = "boots";

class Sequence {
public:
    Sequence(Store& store, std::uint32_t block) : m_store(store), m_block(block == 0 ? 1 : block) {}
    // Reads the mark, reserves the first block, counts the boot. False when a write failed (the
    // numbers are still increasing within this boot; a reboot may then repeat some).
    bool begin();
    // The next number (the first is the stored mark, 0 on a new board).
    std::uint64_t next();
    [[nodiscard]] std::uint64_t boots() const noexcept { return m_boots; }
    [[nodiscard]] std::uint64_t flash_writes() const noexcept { return m_writes; }
    [[nodiscard]] std::uint64_t peek() const noexcept { return m_next; }

private:
    bool reserve(std::uint64_t limit);

    Store& m_store;
    std::uint32_t m_block;
    std::uint64_t m_next = 0;
    std::uint64_t m_limit = 0; // stored high-water mark: numbers below it are reserved
    std::uint64_t m_boots = 0;
    std::uint64_t m_writes = 0;
};

} // namespace iots::fw
