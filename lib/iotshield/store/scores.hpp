#pragma once
// Detection's side of the database: training history out, scores and anomalies back in. Only
// the tables of schema.hpp; no schema of its own.
#include "iotshield/core/time.hpp"
#include "iotshield/record/reading.hpp"
#include "iotshield/store/chunk_table.hpp"
#include "iotshield/store/database.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace iots::store {

struct HistoryFilter {
    std::optional<core::Millis> since; // ts >= since
    std::optional<core::Millis> until; // ts < until
    std::vector<std::string> devices;  // empty: all
    std::vector<std::string> sensors;  // empty: all
};

struct HistoryCounts {
    std::uint64_t rows = 0;      // handed to the callback
    std::uint64_t incidents = 0; // left out: labelled with an incident kind
};

// Stored readings in series order, then time order, leaving out readings labelled as incidents
// (a label present and not "normal"). The Reading passed is reused between calls.
HistoryCounts read_history(Database& db, const HistoryFilter& filter,
                           const std::function<void(const record::Reading&)>& each);

struct ScoreCounts {
    std::uint64_t updated = 0;   // stored readings that got their score, late ones included
    std::uint64_t late = 0;      // of those, readings stored only after they were scored
    std::uint64_t unmatched = 0; // scores given up: their reading was not stored in time
    std::uint64_t anomalies = 0; // rows added to `anomalies` (not for one already there)
};

struct ScoreOptions {
    std::size_t batch = 1000;         // scores per transaction at most
    core::Millis wait_ms = 60000;     // how long a score waits for its reading to be stored
    std::size_t max_waiting = 100000; // scores waiting at most; past it the oldest is given up
};

// Writes score and anomaly onto the stored reading (when the flag flips, the anomaly counts of its
// rollup_minute and rollup_hour rows follow, +1 or -1) and adds a row to `anomalies` per flagged
// reading, in transactions of up to `batch` readings. A stored reading is found by series, ts and
// seq, or without seq by series, ts and value among the rows stored with seq < 0 (schema.hpp), in
// `readings` or, compacted, in its chunk (rewritten with the score: chunk_table.hpp). A
// series the database has not seen yet is created, so that its anomalies have somewhere to belong.
//
// Another process (iots-ingest on the same broker) may commit the reading after it was scored: a
// score that finds no row waits in memory, bounded by max_waiting, and retry() writes it once the
// reading is there, or gives it up (counts().unmatched) after wait_ms. The `anomalies` row is
// added at once either way. Times are the caller's monotonic clock in ms.
class ScoreWriter {
public:
    explicit ScoreWriter(Database& db, ScoreOptions options = {});
    ~ScoreWriter(); // commits what is pending; errors are swallowed here, call commit() to see them
    ScoreWriter(const ScoreWriter&) = delete;
    ScoreWriter& operator=(const ScoreWriter&) = delete;

    void write(const record::Reading& r, core::Millis now);
    // Gives up the scores older than wait_ms and, when another connection has committed since the
    // last look (PRAGMA data_version), writes the waiting scores whose reading is now stored.
    // Returns true when another connection had committed. Leaves a transaction open: commit().
    bool retry(core::Millis now);
    // A last look for every waiting score, then gives up the rest. Leaves a transaction open.
    void finish();
    void commit();
    [[nodiscard]] std::size_t pending() const noexcept { return m_pending; }
    [[nodiscard]] std::size_t waiting() const noexcept { return m_waiting.size(); }
    [[nodiscard]] const ScoreCounts& counts() const noexcept { return m_counts; }

private:
    struct Waiting {
        std::int64_t series_id;
        core::Millis ts;
        std::optional<std::int64_t> seq;
        double value;
        double score;
        bool anomaly;
        core::Millis since;
    };

    std::int64_t series_id(const record::Reading& r);
    bool update(const Waiting& w);
    // Adds delta to the anomalies of the rollup rows (minute, hour) holding ts.
    void rollup_anomaly_delta(std::int64_t series_id, core::Millis ts, int delta);
    // The reading in its chunk (compacted): rewritten with the score; was its old flag.
    bool update_chunk(const Waiting& w, bool& was);
    void match_waiting();
    void begin();
    std::int64_t data_version();

    Database& m_db;
    ScoreOptions m_options;
    std::size_t m_pending = 0;
    std::optional<Transaction> m_tx;
    Statement m_find, m_add_device, m_add_sensor, m_add_series, m_update, m_update_noseq,
        m_add_anomaly, m_count_anomaly, m_data_version, m_last_ts, m_old_flag, m_old_flag_noseq;
    Statement m_rollup_anomaly[2]; // minute, hour
    std::unordered_map<std::string, std::int64_t> m_ids;
    std::string m_key;
    std::string m_reasons;
    std::deque<Waiting> m_waiting;   // in the order scored, so the oldest are at the front
    std::int64_t m_seen_version = 0; // PRAGMA data_version at the last look
    ScoreCounts m_counts;
    ChunkTable m_chunks;
    std::vector<ChunkRow> m_chunk_rows;
};

} // namespace iots::store
