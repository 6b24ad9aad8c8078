#pragma once
// The schema, versioned by PRAGMA user_version, migrated forward one step at a time (DESIGN §4).
//
// v1:
//   devices(id, name UNIQUE, location, first_seen, last_seen, status, status_ts)
//   sensors(id, name UNIQUE, unit)
//   series(id, device_id, sensor_id, first_ts, last_ts, last_value, count, anomalies,
//          UNIQUE(device_id, sensor_id))      -- counts kept as data arrives, not recounted
//   readings(id, series_id, ts ms, value, seq, score, anomaly 0/1/NULL, label, extra JSON)
//          UNIQUE(series_id, ts, seq)         -- range scans by series then time; a re-delivered
//                                             -- reading (same seq and ts) is a duplicate; NULL seq
//                                             -- never conflicts
//   anomalies(id, series_id, ts, value, score, reasons JSON)  -- flagged readings, for the pages
//   alerts(id TEXT PK, ts, updated_ts, device, sensor, severity, title, description, suggestion,
//          rules_title, rules_description, rules_suggestion, value, score, incident, source,
//          status new|acknowledged|resolved, json)
//   commands(id TEXT PK, ts, device, actuator, action, status sent|done|failed, ack_ts, latency_ms)
//   stats(key PK, value)                      -- running totals for the dashboard
#include <string_view>
#include <vector>

namespace iots::store {

// migrations()[i] takes the schema from version i to i + 1.
[[nodiscard]] const std::vector<std::string_view>& migrations();
[[nodiscard]] int latest_schema_version();

} // namespace iots::store
