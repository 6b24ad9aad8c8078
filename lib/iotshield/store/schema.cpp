#include "iotshield/store/schema.hpp"

namespace iots::store {

const std::vector<std::string_view>& migrations() {
    static const std::vector<std::string_view> kMigrations{
        R"sql(
CREATE TABLE devices (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  location TEXT,
  first_seen INTEGER,
  last_seen INTEGER,
  status TEXT,
  status_ts INTEGER
);
CREATE TABLE sensors (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  unit TEXT
);
CREATE TABLE series (
  id INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES devices(id),
  sensor_id INTEGER NOT NULL REFERENCES sensors(id),
  first_ts INTEGER,
  last_ts INTEGER,
  last_value REAL,
  count INTEGER NOT NULL DEFAULT 0,
  anomalies INTEGER NOT NULL DEFAULT 0,
  UNIQUE (device_id, sensor_id)
);
CREATE TABLE readings (
  series_id INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  value REAL NOT NULL,
  score REAL,
  anomaly INTEGER,
  label TEXT,
  extra TEXT,
  PRIMARY KEY (series_id, ts, seq)
) WITHOUT ROWID;
CREATE TABLE anomalies (
  id INTEGER PRIMARY KEY,
  series_id INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  value REAL,
  score REAL,
  reasons TEXT
);
CREATE INDEX anomalies_by_ts ON anomalies (ts);
CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  ts INTEGER NOT NULL,
  updated_ts INTEGER,
  device TEXT NOT NULL,
  sensor TEXT,
  severity TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT,
  suggestion TEXT,
  rules_title TEXT,
  rules_description TEXT,
  rules_suggestion TEXT,
  value REAL,
  score REAL,
  incident TEXT,
  source TEXT,
  status TEXT NOT NULL DEFAULT 'new',
  json TEXT
);
CREATE INDEX alerts_by_ts ON alerts (ts);
CREATE INDEX alerts_by_incident ON alerts (incident);
CREATE TABLE commands (
  id TEXT PRIMARY KEY,
  ts INTEGER NOT NULL,
  device TEXT NOT NULL,
  actuator TEXT NOT NULL,
  action TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'sent',
  ack_ts INTEGER,
  latency_ms INTEGER
);
CREATE TABLE stats (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
)sql",
        // 2, anomalies_by_key (issue 10, db-locking): one anomalies row per flagged reading, so
        // that a scored reading delivered twice (QoS 1) adds no second row. Duplicates an older
        // file already has are removed, the first kept, and the series' counts follow.
        R"sql(
CREATE TEMP TABLE anomalies_dup AS SELECT id, series_id FROM anomalies
  WHERE id NOT IN (SELECT min(id) FROM anomalies GROUP BY series_id, ts, value);
UPDATE series SET anomalies = max(anomalies -
  (SELECT count(*) FROM anomalies_dup d WHERE d.series_id = series.id), 0)
  WHERE id IN (SELECT series_id FROM anomalies_dup);
DELETE FROM anomalies WHERE id IN (SELECT id FROM anomalies_dup);
DROP TABLE anomalies_dup;
CREATE UNIQUE INDEX anomalies_by_key ON anomalies (series_id, ts, value);
)sql",
        // 3, privacy_ledger (issue 14): what each release of iots-export spent, per destination
        // and day of the released data (privacy/budget.hpp: basic composition sums the rows).
        R"sql(
CREATE TABLE privacy_ledger (
  id INTEGER PRIMARY KEY,
  destination TEXT NOT NULL,
  day TEXT NOT NULL,
  released_ts INTEGER NOT NULL,
  release_id TEXT NOT NULL,
  aggregates INTEGER NOT NULL,
  epsilon REAL NOT NULL,
  delta REAL NOT NULL
);
CREATE INDEX privacy_ledger_by_day ON privacy_ledger (destination, day);
)sql",
        // 4, rollups (issue 18): per-series per-minute and per-hour aggregates kept by the
        // writer (reading_writer.cpp, update_rollups), built here from the raw rows a file has.
        R"sql(
CREATE TABLE rollup_minute (
  series_id INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  count INTEGER NOT NULL,
  min REAL, max REAL, sum REAL, sumsq REAL,
  first REAL, last REAL,
  first_ms INTEGER, last_ms INTEGER,
  anomalies INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (series_id, bucket)
) WITHOUT ROWID;
CREATE TABLE rollup_hour (
  series_id INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  count INTEGER NOT NULL,
  min REAL, max REAL, sum REAL, sumsq REAL,
  first REAL, last REAL,
  first_ms INTEGER, last_ms INTEGER,
  anomalies INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (series_id, bucket)
) WITHOUT ROWID;
INSERT INTO rollup_minute (series_id, bucket, count, min, max, sum, sumsq, first_ms, last_ms,
                           anomalies)
  SELECT series_id, ts / 60000, count(*), min(value), max(value), sum(value), sum(value * value),
         min(ts) - ts / 60000 * 60000, max(ts) - ts / 60000 * 60000,
         count(CASE WHEN anomaly = 1 THEN 1 END)
  FROM readings GROUP BY series_id, ts / 60000;
UPDATE rollup_minute SET
  first = (SELECT value FROM readings r WHERE r.series_id = rollup_minute.series_id
           AND r.ts = rollup_minute.bucket * 60000 + rollup_minute.first_ms ORDER BY r.seq LIMIT 1),
  last = (SELECT value FROM readings r WHERE r.series_id = rollup_minute.series_id
          AND r.ts = rollup_minute.bucket * 60000 + rollup_minute.last_ms
          ORDER BY r.seq DESC LIMIT 1);
INSERT INTO rollup_hour (series_id, bucket, count, min, max, sum, sumsq, first_ms, last_ms,
                         anomalies)
  SELECT series_id, bucket / 60, sum(count), min(min), max(max), sum(sum), sum(sumsq),
         min(bucket * 60000 + first_ms) - bucket / 60 * 3600000,
         max(bucket * 60000 + last_ms) - bucket / 60 * 3600000, sum(anomalies)
  FROM rollup_minute GROUP BY series_id, bucket / 60;
UPDATE rollup_hour SET
  first = (SELECT first FROM rollup_minute m WHERE m.series_id = rollup_hour.series_id
           AND m.bucket >= rollup_hour.bucket * 60 AND m.bucket < rollup_hour.bucket * 60 + 60
           ORDER BY m.bucket LIMIT 1),
  last = (SELECT last FROM rollup_minute m WHERE m.series_id = rollup_hour.series_id
          AND m.bucket >= rollup_hour.bucket * 60 AND m.bucket < rollup_hour.bucket * 60 + 60
          ORDER BY m.bucket DESC LIMIT 1);
)sql",
        // 5, reading_chunks (issue 18, compact raw storage): settled readings moved out of
        // `readings` by iots-ingest --compact-after, one row per series and hour (chunk_codec.hpp).
        R"sql(
CREATE TABLE reading_chunks (
  series_id INTEGER NOT NULL,
  start_ts INTEGER NOT NULL,
  end_ts INTEGER NOT NULL,
  n INTEGER NOT NULL,
  anomalies INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (series_id, start_ts)
);
)sql",
        // 6, narrow rollup_minute (issue 18): the minute tier keeps what the tools read of it
        // (count, min, max, sum for the mean, anomalies); sumsq, first, last and their times
        // stay in rollup_hour. 67 -> about 45 bytes a row: a year of 30 series is 15.8 million.
        R"sql(
CREATE TABLE rollup_minute_v6 (
  series_id INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  count INTEGER NOT NULL,
  min REAL, max REAL, sum REAL,
  anomalies INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (series_id, bucket)
) WITHOUT ROWID;
INSERT INTO rollup_minute_v6 (series_id, bucket, count, min, max, sum, anomalies)
  SELECT series_id, bucket, count, min, max, sum, anomalies FROM rollup_minute;
DROP TABLE rollup_minute;
ALTER TABLE rollup_minute_v6 RENAME TO rollup_minute;
)sql",
    };
    return kMigrations;
}

int latest_schema_version() {
    return static_cast<int>(migrations().size());
}

} // namespace iots::store
