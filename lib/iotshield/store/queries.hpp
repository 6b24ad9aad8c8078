#pragma once
// Read-side queries for the dashboard and the HTTP API (iots-serve). One Queries object owns one
// read-only connection and its prepared statements; it is not thread-safe, so the server keeps one
// per worker (a small pool). Read-only connections on a WAL database never block the writers.
// Every value a client sends reaches SQL only as a bound parameter.
#include "iotshield/store/database.hpp"
#include "iotshield/store/downsample.hpp"
#include "iotshield/store/raw_scan.hpp"
#include "iotshield/store/rows.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace iots::store {

struct SensorStats {
    std::string sensor;
    std::string unit;
    std::int64_t series = 0;    // devices with this sensor
    std::int64_t readings = 0;  // from series.count, kept by the writer
    std::int64_t anomalies = 0; // from series.anomalies
    std::optional<std::int64_t> last_ts;
    std::optional<double> min_last, max_last, mean_last; // over the devices' latest values
};

struct Summary {
    std::int64_t total_devices = 0;
    std::int64_t active_devices = 0; // online status, or a reading within the active window
    std::int64_t total_readings = 0;
    std::int64_t total_anomalies = 0;
    std::int64_t total_alerts = 0;
    std::int64_t open_alerts = 0;      // status new
    std::int64_t recent_anomalies = 0; // within the recent window
    std::optional<std::int64_t> last_reading_ts;
    std::map<std::string, std::int64_t> alerts_by_severity;      // all four keys present
    std::map<std::string, std::int64_t> open_alerts_by_severity; // status new
    std::map<std::string, std::int64_t> counters;                // the stats table as it is
    std::vector<SensorStats> sensors;
};

struct SensorLatest {
    std::string sensor;
    std::string unit;
    std::optional<std::int64_t> last_ts;
    std::optional<double> last_value;
    std::int64_t count = 0;
    std::int64_t anomalies = 0;
};

struct DeviceRow {
    std::string name;
    std::string location;
    std::optional<std::int64_t> first_seen, last_seen;
    std::string status; // retained online/offline, empty if never heard
    std::optional<std::int64_t> status_ts;
    std::vector<SensorLatest> sensors;
};

struct ReadingRow {
    std::int64_t series_id = 0;
    std::int64_t ts = 0;
    std::string device;
    std::string sensor;
    std::string unit;
    double value = 0;
    std::optional<std::int64_t> seq; // none when stored as a negative sentinel (schema.hpp)
    std::optional<double> score;
    std::optional<bool> anomaly;
    std::string label;
    std::int64_t stored_seq = 0; // the key's seq as stored, for the stream's cursor
};

struct AnomalyRow {
    std::int64_t id = 0;
    std::int64_t ts = 0;
    std::string device;
    std::string sensor;
    std::optional<double> value;
    std::optional<double> score;
    std::string reasons; // JSON array text as stored
};

struct AlertFilter {
    std::optional<std::string> severity; // LOW|MEDIUM|HIGH|CRITICAL
    std::optional<std::string> status;   // new|acknowledged|resolved
    std::optional<std::string> device;
    std::optional<std::int64_t> from, to; // ts range, [from, to)
    int limit = 50;
};

struct SeriesRange {
    std::string device, sensor, unit;
    std::int64_t from = 0, to = 0;
    std::int64_t raw_count = 0; // readings in the range before downsampling
    bool downsampled = false;
    std::string tier = "raw"; // where the points come from: raw, minute or hour (rollups)
    std::vector<SeriesPoint> points;
    std::vector<AnomalyRow> anomalies;
};

// The newest (ts, stored seq) seen in one series: readings has no row id (schema.hpp), so the
// live stream follows each series' primary key from here.
struct ReadingKey {
    std::int64_t ts = std::numeric_limits<std::int64_t>::min();
    std::int64_t seq = std::numeric_limits<std::int64_t>::min();
};

// Where the live stream starts: per series the newest reading key, highest ids for the rest.
struct StreamCursor {
    std::map<std::int64_t, ReadingKey> readings; // by series id; a series not in it: from its start
    std::int64_t anomaly_id = 0;
    std::int64_t alert_rowid = 0;
    std::int64_t alert_updated = 0;
};

// The tier Queries::readings reads for a span at max_points: the coarsest whose bucket is at
// most the downsampler's, span / (max_points / 2) (1: hour, 0: minute), -1 for the raw readings.
[[nodiscard]] int read_tier(std::int64_t span, std::size_t max_points);

class Queries {
public:
    // Opens `path` read-only; the database must exist with the current schema.
    explicit Queries(const std::string& path);

    // now_ms: the clock, passed in so tests can pin it. Active: a reading within active_window_ms.
    [[nodiscard]] Summary summary(std::int64_t now_ms, std::int64_t active_window_ms,
                                  std::int64_t recent_window_ms);
    [[nodiscard]] std::vector<DeviceRow> devices();
    [[nodiscard]] std::vector<ReadingRow> recent_readings(int limit,
                                                          const std::optional<std::string>& device);
    [[nodiscard]] std::vector<AlertRow> alerts(const AlertFilter& filter);
    [[nodiscard]] std::optional<AlertRow> alert(const std::string& id);
    [[nodiscard]] std::vector<CommandRow> commands(int limit);
    [[nodiscard]] std::optional<CommandRow> command(const std::string& id);
    // nullopt when the device has no such sensor. Reads the tier read_tier() names, or a coarser
    // one when that one has no rows in the range; points are min-max downsampled either way.
    [[nodiscard]] std::optional<SeriesRange> readings(const std::string& device,
                                                      const std::string& sensor, std::int64_t from,
                                                      std::int64_t to, std::size_t max_points);

    // The live stream: rows newer than the cursor, oldest first, at most `limit` each.
    [[nodiscard]] StreamCursor cursor_now();
    // Readings after the cursor's key in each series (one range scan per series), oldest first,
    // advancing the cursor. A series with more than `limit` new rows (a flood or a backfill) skips
    // ahead to its newest row. A reading that arrives with a ts older than its series' cursor
    // (late, out of order) is not streamed: the dashboard wants the present.
    [[nodiscard]] std::vector<ReadingRow> readings_after(StreamCursor& cursor, int limit);
    [[nodiscard]] std::vector<AnomalyRow> anomalies_after(std::int64_t id, int limit);
    // New alerts (rowid after) and changed ones (updated_ts after), oldest first.
    [[nodiscard]] std::vector<AlertRow> alerts_changed(std::int64_t rowid, std::int64_t updated,
                                                       int limit);

    [[nodiscard]] int schema_version() { return m_db.schema_version(); }
    // Changes whenever another connection commits (PRAGMA data_version): a cheap validity check
    // for answers derived from this connection.
    [[nodiscard]] std::int64_t data_version();

    // A slot for the caller to keep one derived answer (e.g. the summary's JSON) with the
    // data_version and clock second it was made at; reused only while both still match.
    struct Memo {
        std::int64_t data_version = -1;
        std::int64_t second = -1;
        std::string text;
    } memo;
    [[nodiscard]] Database& database() noexcept { return m_db; }

private:
    std::int64_t rollup_range(int tier, std::int64_t series_id, std::int64_t from, std::int64_t to,
                              MinMaxDownsampler& ds);
    Database m_db;
    Statement m_devices_count, m_active, m_series_totals, m_alert_counts, m_recent_anomalies,
        m_stats, m_sensor_stats;
    Statement m_devices, m_device_sensors;
    Statement m_alert_one, m_commands, m_command_one;
    Statement m_series_lookup, m_range_anomalies, m_rollup_range[2];
    Statement m_series_newest, m_series_newest_device, m_series_ids;
    Statement m_max_ids, m_anomalies_after, m_alerts_changed, m_data_version;
    Statement m_series_names;
    RawReader m_raw{m_db}; // readings and reading_chunks as one (raw_scan.hpp)

    // The rows of one series named for the API, its names looked up once.
    struct Named {
        std::string device, sensor, unit;
    };
    Named names(std::int64_t series_id);
};

} // namespace iots::store
