#include "iotshield/score/score_store.hpp"

#include "iotshield/core/signals.hpp"
#include "iotshield/score/clock.hpp"

#include <thread>
#include <utility>

namespace iots::score {
namespace {

store::OpenOptions open_options(const core::Logger& log, const std::string& path) {
    store::OpenOptions open = store::patient_writer(log, path);
    open.create = false;
    return open;
}

} // namespace

ScoreStore::ScoreStore(const core::Logger& log, const std::string& path,
                       store::ScoreOptions options)
    : m_db(path, open_options(log, path)), m_writer(m_db, options), m_checkpointer(m_db) {}

void ScoreStore::drain() {
    constexpr core::Millis kQuietMs = 1000;
    core::Millis last_change = monotonic_ms();
    while (m_writer.waiting() > 0 && !core::stop_requested()) {
        const core::Millis now = monotonic_ms();
        if (m_writer.retry(now))
            last_change = now;
        m_writer.commit();
        if (m_writer.waiting() == 0 || now - last_change >= kQuietMs)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

void ScoreStore::finish() {
    m_writer.finish();
    m_writer.commit();
}

} // namespace iots::score
