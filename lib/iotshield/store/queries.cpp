#include "iotshield/store/queries.hpp"

#include "iotshield/store/schema.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace iots::store {

namespace {

constexpr std::array<const char*, 4> kSeverities{"LOW", "MEDIUM", "HIGH", "CRITICAL"};

// Resets a cached statement on every exit path, so a thrown error leaves it reusable.
class Use {
public:
    explicit Use(Statement& st) : m_st(st) {}
    ~Use() { m_st.reset(); }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;
    Statement& operator*() { return m_st; }
    Statement* operator->() { return &m_st; }

private:
    Statement& m_st;
};

ReadingRow reading_row(std::int64_t series_id, const ChunkRow& c) {
    ReadingRow r;
    r.series_id = series_id;
    r.ts = c.ts;
    r.value = c.value;
    r.stored_seq = c.seq;
    if (r.stored_seq >= 0) // negative: stored without seq (schema.hpp)
        r.seq = r.stored_seq;
    r.score = c.score;
    r.anomaly = c.anomaly;
    r.label = c.label.value_or("");
    return r;
}

constexpr const char* kAnomalyColumns =
    "a.id, a.ts, d.name, s.name, a.value, a.score, coalesce(a.reasons, '') FROM anomalies a "
    "JOIN series se ON se.id = a.series_id JOIN devices d ON d.id = se.device_id "
    "JOIN sensors s ON s.id = se.sensor_id ";

AnomalyRow anomaly_row(const Statement& st) {
    AnomalyRow a;
    a.id = st.column_int(0);
    a.ts = st.column_int(1);
    a.device = st.column_text(2);
    a.sensor = st.column_text(3);
    a.value = st.column_optional_double(4);
    a.score = st.column_optional_double(5);
    a.reasons = st.column_text(6);
    return a;
}

std::string cat(const char* a, const char* b, const char* c = "") {
    return std::string(a) + b + c;
}

} // namespace

Queries::Queries(const std::string& path)
    : m_db(path, OpenOptions{.read_only = true, .create = false, .busy_timeout_ms = 2000}) {
    // Map the file: a week of one series touches ~1 page per reading spread over the file, and
    // reading them through mmap saves a system call each. Address space only, not memory.
    m_db.exec("PRAGMA mmap_size=4294967296");
    m_db.exec("PRAGMA cache_size=-16384");
    m_data_version = m_db.prepare("PRAGMA data_version");
    m_devices_count = m_db.prepare("SELECT count(*) FROM devices");
    m_active =
        m_db.prepare("SELECT count(*) FROM devices WHERE last_seen >= ?1 OR (status = 'online' AND "
                     "coalesce(last_seen, 0) >= ?2)");
    m_series_totals = m_db.prepare(
        "SELECT coalesce(sum(count), 0), coalesce(sum(anomalies), 0), max(last_ts) FROM series");
    m_alert_counts =
        m_db.prepare("SELECT severity, status, count(*) FROM alerts GROUP BY severity, status");
    m_recent_anomalies = m_db.prepare("SELECT count(*) FROM anomalies WHERE ts >= ?1");
    m_stats = m_db.prepare("SELECT key, value FROM stats");
    m_sensor_stats = m_db.prepare(
        "SELECT s.name, coalesce(s.unit, ''), count(*), sum(se.count), sum(se.anomalies), "
        "max(se.last_ts), min(se.last_value), max(se.last_value), avg(se.last_value) "
        "FROM series se JOIN sensors s ON s.id = se.sensor_id GROUP BY s.id ORDER BY s.name");
    m_devices = m_db.prepare(
        "SELECT id, name, coalesce(location, ''), first_seen, last_seen, coalesce(status, ''), "
        "status_ts FROM devices ORDER BY name");
    m_device_sensors = m_db.prepare(
        "SELECT s.name, coalesce(s.unit, ''), se.last_ts, se.last_value, se.count, se.anomalies "
        "FROM series se JOIN sensors s ON s.id = se.sensor_id WHERE se.device_id = ?1 "
        "ORDER BY s.name");
    // Newest first: each series' newest rows are at the end of its primary-key range.
    // (reading_chunks too: a series silent for long may have all its readings compacted.)
    m_series_newest = m_db.prepare(
        "SELECT id, newest FROM (SELECT se.id AS id, (SELECT max(x) FROM (SELECT max(r.ts) AS x "
        "FROM readings r WHERE r.series_id = se.id UNION ALL SELECT max(c.end_ts) FROM "
        "reading_chunks c WHERE c.series_id = se.id)) AS newest FROM series se) WHERE newest IS "
        "NOT NULL ORDER BY newest DESC");
    m_series_newest_device = m_db.prepare(
        "SELECT id, newest FROM (SELECT se.id AS id, (SELECT max(x) FROM (SELECT max(r.ts) AS x "
        "FROM readings r WHERE r.series_id = se.id UNION ALL SELECT max(c.end_ts) FROM "
        "reading_chunks c WHERE c.series_id = se.id)) AS newest FROM series se JOIN devices d ON "
        "d.id = se.device_id WHERE d.name = ?1) WHERE newest IS NOT NULL ORDER BY newest DESC");
    m_series_ids = m_db.prepare("SELECT id FROM series ORDER BY id");
    m_series_names = m_db.prepare(
        "SELECT d.name, s.name, coalesce(s.unit, '') FROM series se JOIN devices d ON d.id = "
        "se.device_id JOIN sensors s ON s.id = se.sensor_id WHERE se.id = ?1");
    m_alert_one = m_db.prepare(cat("SELECT ", kAlertSelect, "WHERE id = ?1"));
    m_commands = m_db.prepare(cat("SELECT ", kCommandSelect, "ORDER BY ts DESC LIMIT ?1"));
    m_command_one = m_db.prepare(cat("SELECT ", kCommandSelect, "WHERE id = ?1"));
    m_series_lookup = m_db.prepare(
        "SELECT se.id, coalesce(s.unit, '') FROM series se JOIN devices d ON d.id = se.device_id "
        "JOIN sensors s ON s.id = se.sensor_id WHERE d.name = ?1 AND s.name = ?2");
    // rollup_minute (schema v6) keeps no first_ms/last_ms: a minute spans its whole bucket and
    // its points sit at its start.
    for (int tier = 0; tier < 2; ++tier)
        m_rollup_range[tier] =
            m_db.prepare(std::string(tier == 0 ? "SELECT bucket, 0, 59999"
                                               : "SELECT bucket, first_ms, last_ms") +
                         cat(", min, max, count FROM ", kRollupTables[tier],
                             " WHERE series_id = ?1 AND bucket >= ?2 AND bucket < ?3 "
                             "ORDER BY bucket"));
    m_range_anomalies =
        m_db.prepare(cat("SELECT ", kAnomalyColumns,
                         "WHERE a.series_id = ?1 AND a.ts >= ?2 AND a.ts < ?3 ORDER BY a.ts "
                         "LIMIT ?4"));
    m_max_ids = m_db.prepare(
        "SELECT (SELECT coalesce(max(id), 0) FROM anomalies), (SELECT coalesce(max(rowid), 0) "
        "FROM alerts), (SELECT coalesce(max(coalesce(updated_ts, ts)), 0) FROM alerts)");
    m_anomalies_after =
        m_db.prepare(cat("SELECT ", kAnomalyColumns, "WHERE a.id > ?1 ORDER BY a.id LIMIT ?2"));
    m_alerts_changed = m_db.prepare(
        cat("SELECT ", kAlertSelect,
            "WHERE rowid > ?1 OR coalesce(updated_ts, ts) > ?2 ORDER BY coalesce(updated_ts, ts), "
            "rowid LIMIT ?3"));
}

Summary Queries::summary(std::int64_t now_ms, std::int64_t active_window_ms,
                         std::int64_t recent_window_ms) {
    // One read transaction, so the figures agree with each other.
    m_db.exec("BEGIN");
    struct End {
        Database& db;
        ~End() {
            try {
                db.exec("COMMIT");
            } catch (...) { // NOLINT(bugprone-empty-catch): a read transaction has nothing to lose
            }
        }
    } end{m_db};
    Summary s;
    for (const char* sev : kSeverities) {
        s.alerts_by_severity[sev] = 0;
        s.open_alerts_by_severity[sev] = 0;
    }
    {
        Use st(m_devices_count);
        if (st->step())
            s.total_devices = st->column_int(0);
    }
    {
        Use st(m_active);
        st->bind(1, now_ms - active_window_ms).bind(2, now_ms - 24 * 3600 * 1000);
        if (st->step())
            s.active_devices = st->column_int(0);
    }
    {
        Use st(m_series_totals);
        if (st->step()) {
            s.total_readings = st->column_int(0);
            s.total_anomalies = st->column_int(1);
            s.last_reading_ts = opt_int(*st, 2);
        }
    }
    {
        Use st(m_alert_counts);
        while (st->step()) {
            const auto sev = st->column_text(0);
            const auto status = st->column_text(1);
            const auto n = st->column_int(2);
            s.alerts_by_severity[sev] += n;
            s.total_alerts += n;
            if (status == "new") {
                s.open_alerts_by_severity[sev] += n;
                s.open_alerts += n;
            }
        }
    }
    {
        Use st(m_recent_anomalies);
        st->bind(1, now_ms - recent_window_ms);
        if (st->step())
            s.recent_anomalies = st->column_int(0);
    }
    {
        Use st(m_stats);
        while (st->step())
            s.counters[st->column_text(0)] = st->column_int(1);
    }
    {
        Use st(m_sensor_stats);
        while (st->step()) {
            SensorStats ss;
            ss.sensor = st->column_text(0);
            ss.unit = st->column_text(1);
            ss.series = st->column_int(2);
            ss.readings = st->column_int(3);
            ss.anomalies = st->column_int(4);
            ss.last_ts = opt_int(*st, 5);
            ss.min_last = st->column_optional_double(6);
            ss.max_last = st->column_optional_double(7);
            ss.mean_last = st->column_optional_double(8);
            s.sensors.push_back(std::move(ss));
        }
    }
    return s;
}

std::vector<DeviceRow> Queries::devices() {
    std::vector<DeviceRow> out;
    std::vector<std::int64_t> ids;
    {
        Use st(m_devices);
        while (st->step()) {
            ids.push_back(st->column_int(0));
            DeviceRow d;
            d.name = st->column_text(1);
            d.location = st->column_text(2);
            d.first_seen = opt_int(*st, 3);
            d.last_seen = opt_int(*st, 4);
            d.status = st->column_text(5);
            d.status_ts = opt_int(*st, 6);
            out.push_back(std::move(d));
        }
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        Use st(m_device_sensors);
        st->bind(1, ids[i]);
        while (st->step()) {
            SensorLatest sl;
            sl.sensor = st->column_text(0);
            sl.unit = st->column_text(1);
            sl.last_ts = opt_int(*st, 2);
            sl.last_value = st->column_optional_double(3);
            sl.count = st->column_int(4);
            sl.anomalies = st->column_int(5);
            out[i].sensors.push_back(std::move(sl));
        }
    }
    return out;
}

namespace {
bool newer(const ReadingRow& a, const ReadingRow& b) {
    if (a.ts != b.ts)
        return a.ts > b.ts;
    if (a.series_id != b.series_id)
        return a.series_id > b.series_id;
    return a.stored_seq > b.stored_seq;
}
} // namespace

std::vector<ReadingRow> Queries::recent_readings(int limit,
                                                 const std::optional<std::string>& device) {
    // The newest `limit` readings by ts: series by their newest ts, each read backwards from the
    // end of its key range, stopping once a series' newest is older than the limit-th kept.
    std::vector<std::pair<std::int64_t, std::int64_t>> series; // id, newest ts
    {
        Use st(device ? m_series_newest_device : m_series_newest);
        if (device)
            st->bind(1, std::string_view(*device));
        while (st->step())
            series.emplace_back(st->column_int(0), st->column_int(1));
    }
    const auto n = static_cast<std::size_t>(std::max(limit, 0));
    std::vector<ReadingRow> out;
    for (const auto& entry : series) {
        // Not a structured binding: clang 14 refuses to capture one in the lambda below.
        const auto id = entry.first;
        if (out.size() >= n && entry.second < out.back().ts)
            break;
        const Named named = names(id);
        std::size_t got = 0;
        m_raw.scan_back(id, kMinTs, kMaxTs, [&](const ChunkRow& c) {
            out.push_back(reading_row(id, c));
            out.back().device = named.device;
            out.back().sensor = named.sensor;
            out.back().unit = named.unit;
            return ++got < n;
        });
        std::sort(out.begin(), out.end(), newer);
        if (out.size() > n)
            out.resize(n);
    }
    return out;
}

std::vector<AlertRow> Queries::alerts(const AlertFilter& f) {
    // Built from fixed fragments only; the filter values are bound.
    std::string sql = std::string("SELECT ") + kAlertSelect + "WHERE 1";
    int n = 0;
    std::vector<std::pair<int, std::string>> texts;
    std::vector<std::pair<int, std::int64_t>> ints;
    if (f.severity) {
        sql += " AND severity = ?" + std::to_string(++n);
        texts.emplace_back(n, *f.severity);
    }
    if (f.status) {
        sql += " AND status = ?" + std::to_string(++n);
        texts.emplace_back(n, *f.status);
    }
    if (f.device) {
        sql += " AND device = ?" + std::to_string(++n);
        texts.emplace_back(n, *f.device);
    }
    if (f.from) {
        sql += " AND ts >= ?" + std::to_string(++n);
        ints.emplace_back(n, *f.from);
    }
    if (f.to) {
        sql += " AND ts < ?" + std::to_string(++n);
        ints.emplace_back(n, *f.to);
    }
    sql += " ORDER BY ts DESC, rowid DESC LIMIT ?" + std::to_string(++n);
    ints.emplace_back(n, f.limit);
    auto st = m_db.prepare(sql);
    for (const auto& [i, v] : texts)
        st.bind(i, std::string_view(v));
    for (const auto& [i, v] : ints)
        st.bind(i, v);
    std::vector<AlertRow> out;
    while (st.step())
        out.push_back(alert_row(st));
    return out;
}

std::optional<AlertRow> Queries::alert(const std::string& id) {
    Use st(m_alert_one);
    st->bind(1, std::string_view(id));
    if (!st->step())
        return std::nullopt;
    return alert_row(*st);
}

std::vector<CommandRow> Queries::commands(int limit) {
    std::vector<CommandRow> out;
    Use st(m_commands);
    st->bind(1, static_cast<std::int64_t>(limit));
    while (st->step())
        out.push_back(command_row(*st));
    return out;
}

std::optional<CommandRow> Queries::command(const std::string& id) {
    Use st(m_command_one);
    st->bind(1, std::string_view(id));
    if (!st->step())
        return std::nullopt;
    return command_row(*st);
}

std::optional<SeriesRange> Queries::readings(const std::string& device, const std::string& sensor,
                                             std::int64_t from, std::int64_t to,
                                             std::size_t max_points) {
    SeriesRange r;
    std::int64_t series_id = 0;
    {
        Use st(m_series_lookup);
        st->bind(1, std::string_view(device)).bind(2, std::string_view(sensor));
        if (!st->step())
            return std::nullopt;
        series_id = st->column_int(0);
        r.unit = st->column_text(1);
    }
    r.device = device;
    r.sensor = sensor;
    r.from = from;
    r.to = to;
    // The coarsest tier that still gives max_points over the range; when it has nothing there, a
    // coarser one (raw rows past their retention), else a finer one (rows written by a script
    // without rollups).
    const int chosen = read_tier(to - from, max_points);
    std::vector<int> order;
    for (int tier = chosen; tier < 2; ++tier)
        order.push_back(tier);
    for (int tier = chosen - 1; tier >= -1; --tier)
        order.push_back(tier);
    for (const int tier : order) {
        MinMaxDownsampler ds(from, to, max_points);
        std::int64_t count = 0;
        if (tier < 0) {
            // readings and reading_chunks as one (raw_scan.hpp)
            m_raw.scan(
                series_id, from, to,
                [&](const ChunkRow& c) {
                    ds.add({c.ts, c.value});
                    return true;
                },
                ChunkFields::keys_values);
            count = static_cast<std::int64_t>(ds.count());
        } else {
            count = rollup_range(tier, series_id, from, to, ds);
        }
        if (count == 0 && tier != order.back())
            continue;
        r.tier = tier < 0 ? "raw" : tier == 0 ? "minute" : "hour";
        r.raw_count = count;
        r.downsampled = tier >= 0 || ds.downsampling();
        r.points = ds.finish();
        break;
    }
    {
        Use st(m_range_anomalies);
        st->bind(1, series_id).bind(2, from).bind(3, to).bind(4, std::int64_t{2000});
        while (st->step())
            r.anomalies.push_back(anomaly_row(*st));
    }
    return r;
}

int read_tier(std::int64_t span, std::size_t max_points) {
    // The downsampler's bucket (a minimum and a maximum each): a tier no wider than it gives
    // at least one row per bucket, so the same envelope.
    const std::int64_t per_bucket =
        span / static_cast<std::int64_t>(std::max<std::size_t>(1, max_points / 2));
    for (int tier = 1; tier >= 0; --tier)
        if (per_bucket >= kRollupMillis[tier])
            return tier;
    return -1;
}

// A rollup row whose readings fall in [from, to) gives its minimum and maximum, at the time of
// its first reading in the range: the envelope the raw rows would have given.
std::int64_t Queries::rollup_range(int tier, std::int64_t series_id, std::int64_t from,
                                   std::int64_t to, MinMaxDownsampler& ds) {
    const std::int64_t width = kRollupMillis[tier];
    std::int64_t count = 0;
    Use st(m_rollup_range[tier]);
    st->bind(1, series_id).bind(2, from / width).bind(3, (to + width - 1) / width);
    while (st->step()) {
        const std::int64_t start = st->column_int(0) * width;
        const std::int64_t first = start + st->column_int(1);
        const std::int64_t last = start + st->column_int(2);
        if (last < from || first >= to)
            continue;
        const std::int64_t ts = std::clamp(first, from, to - 1);
        count += st->column_int(5);
        ds.add({ts, st->column_double(3)});
        ds.add({ts, st->column_double(4)});
    }
    return count;
}

std::int64_t Queries::data_version() {
    Use st(m_data_version);
    return st->step() ? st->column_int(0) : -1;
}

StreamCursor Queries::cursor_now() {
    StreamCursor c;
    std::vector<std::int64_t> ids;
    {
        Use st(m_series_ids);
        while (st->step())
            ids.push_back(st->column_int(0));
    }
    for (const auto id : ids) {
        auto& key = c.readings[id];
        if (const auto newest = m_raw.newest_key(id))
            key = ReadingKey{newest->first, newest->second};
    }
    Use st(m_max_ids);
    if (st->step()) {
        c.anomaly_id = st->column_int(0);
        c.alert_rowid = st->column_int(1);
        c.alert_updated = st->column_int(2);
    }
    return c;
}

std::vector<ReadingRow> Queries::readings_after(StreamCursor& cursor, int limit) {
    std::vector<std::int64_t> ids;
    {
        Use st(m_series_ids);
        while (st->step())
            ids.push_back(st->column_int(0));
    }
    std::vector<ReadingRow> out;
    for (const auto id : ids) {
        auto& key = cursor.readings[id];
        std::size_t got = 0;
        const auto wanted = static_cast<std::size_t>(std::max(limit, 0));
        std::optional<Named> named;
        // (ts, seq) > the key: ts >= key.ts bounds the scan.
        if (wanted > 0)
            m_raw.scan(id, key.ts, kMaxTs, [&](const ChunkRow& row) {
                if (row.ts == key.ts && row.seq <= key.seq)
                    return true;
                if (!named)
                    named = names(id);
                out.push_back(reading_row(id, row));
                out.back().device = named->device;
                out.back().sensor = named->sensor;
                out.back().unit = named->unit;
                key = ReadingKey{row.ts, row.seq};
                return ++got < wanted;
            });
        if (got == wanted) { // a flood: this series skips to its newest
            if (const auto newest = m_raw.newest_key(id))
                key = ReadingKey{newest->first, newest->second};
        }
    }
    std::sort(out.begin(), out.end(),
              [](const ReadingRow& a, const ReadingRow& b) { return newer(b, a); });
    const auto n = static_cast<std::size_t>(std::max(limit, 0));
    if (out.size() > n) // keep the newest
        out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(n));
    return out;
}

Queries::Named Queries::names(std::int64_t series_id) {
    Named n;
    Use st(m_series_names);
    st->bind(1, series_id);
    if (st->step()) {
        n.device = st->column_text(0);
        n.sensor = st->column_text(1);
        n.unit = st->column_text(2);
    }
    return n;
}

std::vector<AnomalyRow> Queries::anomalies_after(std::int64_t id, int limit) {
    std::vector<AnomalyRow> out;
    Use st(m_anomalies_after);
    st->bind(1, id).bind(2, static_cast<std::int64_t>(limit));
    while (st->step())
        out.push_back(anomaly_row(*st));
    return out;
}

std::vector<AlertRow> Queries::alerts_changed(std::int64_t rowid, std::int64_t updated, int limit) {
    std::vector<AlertRow> out;
    Use st(m_alerts_changed);
    st->bind(1, rowid).bind(2, updated).bind(3, static_cast<std::int64_t>(limit));
    while (st->step())
        out.push_back(alert_row(*st));
    return out;
}

} // namespace iots::store
