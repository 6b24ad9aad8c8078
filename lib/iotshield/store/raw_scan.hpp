#pragma once
// The one way to read raw readings: the rows of `readings` and the compacted hours of
// reading_chunks (chunk_table.hpp) of one series, merged in key order (ts, seq), as if they were
// one table. Every reader of raw readings in store/ goes through it.
#include "iotshield/store/chunk_codec.hpp"
#include "iotshield/store/database.hpp"

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

namespace iots::store {

// Return false to stop the scan.
using RawEach = std::function<bool(const ChunkRow&)>;

class RawReader {
public:
    // Prepares its statements on db, which must outlive it.
    explicit RawReader(Database& db);

    // The readings of series_id with t0 <= ts < t1, oldest first (by ts, then seq).
    void scan(std::int64_t series_id, std::int64_t t0, std::int64_t t1, const RawEach& each,
              ChunkFields fields = ChunkFields::all);
    // The same, newest first.
    void scan_back(std::int64_t series_id, std::int64_t t0, std::int64_t t1, const RawEach& each,
                   ChunkFields fields = ChunkFields::all);
    // The greatest key (ts, seq) stored in the series; nullopt when it has no readings.
    std::optional<std::pair<std::int64_t, std::int64_t>> newest_key(std::int64_t series_id);

private:
    void run(bool back, std::int64_t series_id, std::int64_t t0, std::int64_t t1,
             const RawEach& each, ChunkFields fields);

    Statement m_hot[2][2]; // [back][all fields]
    Statement m_chunks[2]; // [back]
    std::vector<ChunkRow> m_rows;
};

inline constexpr std::int64_t kMinTs = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t kMaxTs = std::numeric_limits<std::int64_t>::max();

// One scan with statements prepared for it (RawReader for repeated scans).
void scan_raw(Database& db, std::int64_t series_id, std::int64_t t0, std::int64_t t1,
              const RawEach& each, ChunkFields fields = ChunkFields::all);

} // namespace iots::store
