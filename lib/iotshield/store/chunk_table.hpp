#pragma once
// reading_chunks (schema.hpp): one row per series and hour of settled readings, in the compact
// layout of chunk_codec.hpp. ChunkTable reads and rewrites single chunks (a score or a duplicate
// check that lands on a compacted reading); Compactor moves settled hours out of `readings`.
// Neither opens a transaction but Compactor::step() (the caller's writer connection holds none).
#include "iotshield/core/time.hpp"
#include "iotshield/store/chunk_codec.hpp"
#include "iotshield/store/database.hpp"

#include <cstdint>
#include <vector>

namespace iots::store {

class ChunkTable {
public:
    explicit ChunkTable(Database& db);

    // The readings of the chunk of series at start (chunk_start(ts)), replacing rows; false
    // when there is no such chunk.
    bool load(std::int64_t series_id, std::int64_t start, std::vector<ChunkRow>& rows,
              ChunkFields fields = ChunkFields::all);
    // Writes rows (sorted, distinct keys, all within the hour) as the chunk at start, or deletes
    // it when rows is empty.
    void save(std::int64_t series_id, std::int64_t start, const std::vector<ChunkRow>& rows);

private:
    Statement m_load, m_save, m_erase;
};

// The stored row of a reading in rows (sorted by key): by (ts, seq), or without seq (seq < 0) by
// ts and value among the rows stored without seq. nullptr: not there.
[[nodiscard]] ChunkRow* find_reading(std::vector<ChunkRow>& rows, std::int64_t ts,
                                     std::optional<std::int64_t> seq, double value);

struct CompactOptions {
    core::Millis after_ms = 0;      // > 0: an hour is settled once its series' newest reading
                                    // is this much past its end; 0: off
    std::size_t batch_rows = 20000; // rows moved per transaction (whole hours, so a little more)
};

struct CompactStep {
    bool more = false;        // settled hours remain: call again soon
    std::uint64_t moved = 0;  // readings moved into chunks by this step
    std::uint64_t chunks = 0; // chunks written
};

class Compactor {
public:
    Compactor(Database& db, CompactOptions options);
    // Moves settled hours (the oldest of each series first, series in turn) into reading_chunks
    // in one transaction, merging late readings into the chunk already there; the open batch of
    // the connection must be committed first. Throws Error like the writer.
    CompactStep step();
    // The same with another bound on the rows moved.
    CompactStep step(std::uint64_t max_rows);

private:
    bool move_one(std::int64_t series_id, std::int64_t last_ts, CompactStep& out);

    Database* m_db;
    CompactOptions m_options;
    ChunkTable m_table;
    Statement m_series, m_oldest, m_hot, m_delete;
    std::int64_t m_next_series = 0; // where the round of series goes on
    std::vector<ChunkRow> m_rows, m_merged, m_hot_rows;
};

} // namespace iots::store
