#pragma once
// MQTT with --db: the scores the network thread made, waiting for the main loop to write them to
// the database. A busy database (another writer's transaction, a slow commit) must never hold an
// anomaly: it is published before anything waits on SQLite. Past `max` scores not yet written the
// network thread waits (TCP back-pressure): memory stays bounded.
#include "iotshield/core/time.hpp"
#include "iotshield/record/reading.hpp"
#include "iotshield/score/score_store.hpp"

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace iots::score {

class ScoreQueue {
public:
    explicit ScoreQueue(std::size_t max = 20000) : m_max(max) {}

    // Network thread: waits while `max` scores are queued, unless the main loop has left.
    void push(const record::Reading& r, core::Millis at);
    // Main loop: writes what is queued, without holding the lock while SQLite works.
    void write_to(ScoreStore& store);
    // Main loop: it takes no more scores; a waiting push() goes on without waiting again.
    void leave();

private:
    std::size_t m_max;
    std::mutex m_mu;
    std::condition_variable m_room;
    std::vector<std::pair<record::Reading, core::Millis>> m_queued;  // under m_mu
    std::vector<std::pair<record::Reading, core::Millis>> m_writing; // the main loop's
    bool m_leaving = false;                                          // under m_mu
};

} // namespace iots::score
