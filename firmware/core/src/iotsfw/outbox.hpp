#pragma once
// What waits for the broker: a ring of fixed capacity, allocated once. When it is full the oldest
// is dropped and counted; the count goes out as one fault record before the rest is sent.
#include "iotsfw/records.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace iots::fw {

struct Outgoing {
    enum class Type : std::uint8_t { reading, fault };
    Type type = Type::reading;
    Sample sample; // a reading (sample.kind is also a fault's sensor)
    Fault fault = Fault::dht_no_answer;
    std::uint32_t taken_ms = 0;     // Hardware::millis() when it was taken
    std::optional<std::int64_t> ts; // the clock then, if it was set
};

class Outbox {
public:
    explicit Outbox(std::size_t capacity) : m_items(capacity == 0 ? 1 : capacity) {}
    void push(const Outgoing& item);
    [[nodiscard]] bool empty() const noexcept { return m_size == 0; }
    [[nodiscard]] std::size_t size() const noexcept { return m_size; }
    [[nodiscard]] std::size_t capacity() const noexcept { return m_items.size(); }
    [[nodiscard]] const Outgoing& front() const { return m_items[m_head]; }
    void pop();
    // Dropped since the last report, and in all.
    [[nodiscard]] std::uint64_t unreported_drops() const noexcept { return m_unreported; }
    void drops_reported() noexcept { m_unreported = 0; }
    [[nodiscard]] std::uint64_t dropped() const noexcept { return m_dropped; }

private:
    std::vector<Outgoing> m_items;
    std::size_t m_head = 0, m_size = 0;
    std::uint64_t m_dropped = 0, m_unreported = 0;
};

} // namespace iots::fw
