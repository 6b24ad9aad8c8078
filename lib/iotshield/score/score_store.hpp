#pragma once
// --db: the scores written back onto the stored readings (store::ScoreWriter), with the WAL
// checkpoints on a thread of their own, not in a commit the MQTT input waits for.
#include "iotshield/core/log.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/record/reading.hpp"
#include "iotshield/store/checkpointer.hpp"
#include "iotshield/store/database.hpp"
#include "iotshield/store/scores.hpp"

#include <string>

namespace iots::score {

class ScoreStore {
public:
    // Opens an existing database as a patient writer (another writer's transaction is waited out).
    ScoreStore(const core::Logger& log, const std::string& path, store::ScoreOptions options);

    void write(const record::Reading& r, core::Millis at) { m_writer.write(r, at); }
    bool retry(core::Millis now) { return m_writer.retry(now); }
    void commit() { m_writer.commit(); }
    // End of input: the scores still waiting get the time the other writer (iots-ingest reading
    // the same stream) needs to commit their readings, as long as it keeps committing.
    void drain();
    // A last look for every waiting score, then commits.
    void finish();
    [[nodiscard]] const store::ScoreCounts& counts() const noexcept { return m_writer.counts(); }

private:
    store::Database m_db;
    store::ScoreWriter m_writer;
    store::Checkpointer m_checkpointer;
};

} // namespace iots::score
