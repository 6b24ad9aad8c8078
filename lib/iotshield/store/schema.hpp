#pragma once
// The schema, versioned by PRAGMA user_version, migrated forward one step at a time (DESIGN §4).
//
// v1:
//   devices(id, name UNIQUE, location, first_seen, last_seen, status, status_ts)
//   sensors(id, name UNIQUE, unit)
//   series(id, device_id, sensor_id, first_ts, last_ts, last_value, count, anomalies,
//          UNIQUE(device_id, sensor_id))      -- counts kept as data arrives, not recounted
//   readings(series_id, ts ms, seq, value, score, anomaly 0/1/NULL, label, extra JSON)
//          PRIMARY KEY(series_id, ts, seq) WITHOUT ROWID
//                     -- one B-tree: an insert touches only it, and one series over a time range
//                     -- is one contiguous range scan. A re-delivered reading (same series, ts and
//                     -- seq) is a duplicate. seq < 0 means "no seq": such a reading is (series,
//                     -- ts, value) (DESIGN §2): it is a duplicate when a row with seq < 0 and the
//                     -- same value is at its series and ms (kSameNoSeqSql), else it is stored as
//                     -- -1, -2, ... (one less than the least negative seq already at that series
//                     -- and ms, see kNoSeqSql), in arrival order. So a seqless reading is found
//                     -- again by (series_id, ts, seq < 0, value). Readers map seq < 0 to none.
//                     -- There is no row id: the live stream follows (series_id, ts, seq).
//   anomalies(id, series_id, ts, value, score, reasons JSON)  -- flagged readings, for the pages
//   alerts(id TEXT PK, ts, updated_ts, device, sensor, severity, title, description, suggestion,
//          rules_title, rules_description, rules_suggestion, value, score, incident, source,
//          status new|acknowledged|resolved, json)  -- indexed by ts and by incident
//   commands(id TEXT PK, ts, device, actuator, action, status sent|done|failed, ack_ts, latency_ms)
//   stats(key PK, value)                      -- running totals for the dashboard
// v2 (anomalies_by_key):
//   anomalies UNIQUE(series_id, ts, value)    -- one row per flagged reading, also redelivered
// v3 (privacy_ledger):
//   privacy_ledger(id, destination, day 'YYYY-MM-DD' (UTC, of the released data), released_ts ms,
//          release_id, aggregates, epsilon, delta)  -- one row per release and day; indexed by
//                     -- (destination, day). Rows are only added: the sum is what was spent.
// v4 (rollups):
//   rollup_minute(series_id, bucket = ts / 60000, count, min, max, sum, sumsq, first, last,
//          first_ms, last_ms, anomalies) PRIMARY KEY(series_id, bucket) WITHOUT ROWID
//   rollup_hour(the same columns, bucket = ts / 3600000)
//                     -- kept by the writer in the transaction of the readings (update_rollups):
//                     -- count, min ... last over the stored readings of the bucket; first_ms and
//                     -- last_ms the ms after the bucket start of the first and last one; anomalies
//                     -- the readings with anomaly = 1 (ScoreWriter adjusts it when a flag flips).
//                     -- Retention deletes each tier on its own (raw, minutes, hours).
// v5 (reading_chunks):
//   reading_chunks(series_id, start_ts ms (a multiple of 1 h), end_ts (of its last reading), n,
//          anomalies (readings flagged), data BLOB (chunk_codec.hpp)) PRIMARY KEY(series_id,
//          start_ts)  -- the readings of one series and hour that the compactor (chunk_table.hpp)
//                     -- moved out of `readings`, which keeps the recent ones (where scores
//                     -- arrive and duplicates are checked). A reading is in one of the two; a
//                     -- late one may be in `readings` within a compacted hour until the next
//                     -- pass merges it. raw_scan.hpp reads both as one.
// v6 (narrow rollup_minute):
//   rollup_minute(series_id, bucket = ts / 60000, count, min, max, sum, anomalies)
//          PRIMARY KEY(series_id, bucket) WITHOUT ROWID  -- the minute tier without sumsq,
//                     -- first, last, first_ms and last_ms (rollup_hour keeps them): a year of
//                     -- minutes is most of a database's bytes.
#include <cstdint>
#include <string_view>
#include <vector>

namespace iots::store {

// The rollup tiers (v4): their tables and bucket widths, minute first.
inline constexpr const char* kRollupTables[2] = {"rollup_minute", "rollup_hour"};
inline constexpr std::int64_t kRollupMillis[2] = {60000, 3600000};

// migrations()[i] takes the schema from version i to i + 1.
[[nodiscard]] const std::vector<std::string_view>& migrations();
[[nodiscard]] int latest_schema_version();

// The stored seq of a reading without one, for an INSERT whose ?1 is series_id and ?2 is ts:
// one less than the least negative seq already stored at that series and ms (-1 for the first).
inline constexpr const char* kNoSeqSql =
    "(SELECT coalesce(min(seq), 0) - 1 FROM readings WHERE series_id = ?1 AND ts = ?2 AND seq < 0)";
// The stored row of a reading without seq, for a statement whose ?1 is series_id, ?2 ts and ?3
// value (at most one: a second one would have been a duplicate).
inline constexpr const char* kSameNoSeqSql =
    "SELECT 1 FROM readings WHERE series_id = ?1 AND ts = ?2 AND seq < 0 AND value = ?3";

} // namespace iots::store
