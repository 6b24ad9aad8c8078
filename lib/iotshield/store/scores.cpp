#include "iotshield/store/scores.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/record/serialize.hpp"
#include "iotshield/store/raw_scan.hpp"
#include "iotshield/store/schema.hpp"

namespace iots::store {

HistoryCounts read_history(Database& db, const HistoryFilter& filter,
                           const std::function<void(const record::Reading&)>& each) {
    // The series that pass the filter, then each one's readings (raw_scan.hpp).
    std::string sql = "SELECT se.id, d.name, s.name FROM series se"
                      " JOIN devices d ON d.id = se.device_id"
                      " JOIN sensors s ON s.id = se.sensor_id WHERE 1";
    auto in_list = [&](const char* column, std::size_t n) {
        if (n == 0)
            return;
        sql.append(" AND ").append(column).append(" IN (");
        for (std::size_t i = 0; i < n; ++i)
            sql += i == 0 ? "?" : ",?";
        sql += ")";
    };
    in_list("d.name", filter.devices.size());
    in_list("s.name", filter.sensors.size());
    sql += " ORDER BY se.id";
    Statement st = db.prepare(sql);
    int i = 1;
    for (const auto& d : filter.devices)
        st.bind(i++, std::string_view(d));
    for (const auto& s : filter.sensors)
        st.bind(i++, std::string_view(s));
    struct Named {
        std::int64_t id;
        std::string device, sensor;
    };
    std::vector<Named> series;
    while (st.step())
        series.push_back({st.column_int(0), st.column_text(1), st.column_text(2)});
    st.reset();

    HistoryCounts counts;
    RawReader raw(db);
    record::Reading r;
    for (const auto& named : series)
        raw.scan(named.id, filter.since.value_or(kMinTs), filter.until.value_or(kMaxTs),
                 [&](const ChunkRow& row) {
                     if (row.label && !row.label->empty() && *row.label != "normal") {
                         ++counts.incidents;
                         return true;
                     }
                     r.clear();
                     r.device = named.device;
                     r.sensor = named.sensor;
                     r.ts = row.ts;
                     r.value = row.value;
                     each(r);
                     ++counts.rows;
                     return true;
                 });
    return counts;
}

ScoreWriter::ScoreWriter(Database& db, ScoreOptions options)
    : m_db(db), m_options(options),
      m_find(
          db.prepare("SELECT se.id FROM series se JOIN devices d ON d.id = se.device_id"
                     " JOIN sensors s ON s.id = se.sensor_id WHERE d.name = ?1 AND s.name = ?2")),
      m_add_device(db.prepare("INSERT OR IGNORE INTO devices (name, first_seen, last_seen)"
                              " VALUES (?1, ?2, ?2)")),
      m_add_sensor(db.prepare("INSERT OR IGNORE INTO sensors (name, unit) VALUES (?1, ?2)")),
      m_add_series(
          db.prepare("INSERT OR IGNORE INTO series (device_id, sensor_id, first_ts, last_ts)"
                     " SELECT d.id, s.id, ?3, ?3 FROM devices d, sensors s"
                     " WHERE d.name = ?1 AND s.name = ?2")),
      m_update(db.prepare("UPDATE readings SET score = ?1, anomaly = ?2"
                          " WHERE series_id = ?3 AND ts = ?4 AND seq = ?5")),
      m_update_noseq(db.prepare("UPDATE readings SET score = ?1, anomaly = ?2"
                                " WHERE series_id = ?3 AND ts = ?4 AND seq < 0 AND value = ?5")),
      // anomalies_by_key (schema.cpp): a redelivered flagged reading adds no second row.
      m_add_anomaly(db.prepare("INSERT OR IGNORE INTO anomalies (series_id, ts, value, score,"
                               " reasons) VALUES (?1, ?2, ?3, ?4, ?5)")),
      m_count_anomaly(db.prepare("UPDATE series SET anomalies = anomalies + 1 WHERE id = ?1")),
      m_data_version(db.prepare("PRAGMA data_version")),
      m_last_ts(db.prepare("SELECT ts FROM readings WHERE series_id = ?1"
                           " ORDER BY ts DESC LIMIT 1")),
      m_old_flag(db.prepare("SELECT anomaly FROM readings"
                            " WHERE series_id = ?1 AND ts = ?2 AND seq = ?3")),
      m_old_flag_noseq(db.prepare("SELECT anomaly FROM readings"
                                  " WHERE series_id = ?1 AND ts = ?2 AND seq < 0 AND value = ?3")),
      m_chunks(db) {
    for (int tier = 0; tier < 2; ++tier)
        m_rollup_anomaly[tier] = db.prepare(std::string("UPDATE ") + kRollupTables[tier] +
                                            " SET anomalies = max(anomalies + ?3, 0)"
                                            " WHERE series_id = ?1 AND bucket = ?2");
    if (m_options.batch == 0)
        m_options.batch = 1;
    m_seen_version = data_version();
}

ScoreWriter::~ScoreWriter() {
    try {
        commit();
    } catch (...) { // NOLINT(bugprone-empty-catch): a destructor must not throw
    }
}

std::int64_t ScoreWriter::series_id(const record::Reading& r) {
    m_key.assign(r.device).append(1, '/').append(r.sensor);
    auto it = m_ids.find(m_key);
    if (it != m_ids.end())
        return it->second;
    for (int attempt = 0; attempt < 2; ++attempt) {
        m_find.bind(1, std::string_view(r.device)).bind(2, std::string_view(r.sensor));
        if (m_find.step()) {
            const std::int64_t id = m_find.column_int(0);
            m_find.reset();
            m_ids.emplace(m_key, id);
            return id;
        }
        m_find.reset();
        m_add_device.bind(1, std::string_view(r.device)).bind(2, r.ts).run();
        m_add_sensor.bind(1, std::string_view(r.sensor));
        if (r.unit.empty())
            m_add_sensor.bind_null(2);
        else
            m_add_sensor.bind(2, std::string_view(r.unit));
        m_add_sensor.run();
        m_add_series.bind(1, std::string_view(r.device))
            .bind(2, std::string_view(r.sensor))
            .bind(3, r.ts)
            .run();
    }
    throw Error(Exit::failure, "database: cannot create series " + m_key);
}

std::int64_t ScoreWriter::data_version() {
    const std::int64_t version = m_data_version.step() ? m_data_version.column_int(0) : 0;
    m_data_version.reset();
    return version;
}

void ScoreWriter::begin() {
    if (!m_tx)
        m_tx.emplace(m_db);
}

bool ScoreWriter::update(const Waiting& w) {
    // The flag the row had: when it flips, the rollups' anomaly counts of its buckets follow.
    Statement& old = w.seq ? m_old_flag : m_old_flag_noseq;
    old.bind(1, w.series_id).bind(2, w.ts);
    if (w.seq)
        old.bind(3, *w.seq);
    else
        old.bind(3, w.value);
    const bool hot = old.step();
    bool was = hot && !old.is_null(0) && old.column_int(0) == 1;
    old.reset();
    if (hot) {
        Statement& st = w.seq ? m_update : m_update_noseq;
        st.bind(1, w.score)
            .bind(2, std::int64_t{w.anomaly ? 1 : 0})
            .bind(3, w.series_id)
            .bind(4, w.ts);
        if (w.seq)
            st.bind(5, *w.seq);
        else
            st.bind(5, w.value);
        if (st.run() == 0)
            return false;
    } else if (!update_chunk(w, was)) {
        return false;
    }
    if (was != w.anomaly)
        rollup_anomaly_delta(w.series_id, w.ts, w.anomaly ? 1 : -1);
    ++m_counts.updated;
    return true;
}

void ScoreWriter::rollup_anomaly_delta(std::int64_t series_id, core::Millis ts, int delta) {
    for (int tier = 0; tier < 2; ++tier)
        m_rollup_anomaly[tier]
            .bind(1, series_id)
            .bind(2, static_cast<std::int64_t>(ts / kRollupMillis[tier]))
            .bind(3, std::int64_t{delta})
            .run();
}

// A reading already compacted (chunk_table.hpp): its chunk rewritten with the score; was is the
// flag it had.
bool ScoreWriter::update_chunk(const Waiting& w, bool& was) {
    const std::int64_t start = chunk_start(w.ts);
    if (!m_chunks.load(w.series_id, start, m_chunk_rows))
        return false;
    ChunkRow* row = find_reading(m_chunk_rows, w.ts, w.seq, w.value);
    if (row == nullptr)
        return false;
    was = row->anomaly.value_or(false);
    row->score = w.score;
    row->anomaly = w.anomaly;
    m_chunks.save(w.series_id, start, m_chunk_rows);
    return true;
}

void ScoreWriter::write(const record::Reading& r, core::Millis now) {
    begin();
    const std::int64_t id = series_id(r);
    const bool anomaly = r.anomaly.value_or(false);
    Waiting w{id, r.ts, r.seq, r.value, r.score.value_or(0.0), anomaly, now};
    if (!update(w)) {
        if (m_waiting.size() >= m_options.max_waiting) {
            m_waiting.pop_front();
            ++m_counts.unmatched;
        }
        m_waiting.push_back(w);
    }
    if (anomaly) {
        m_reasons.assign(1, '[');
        for (std::size_t i = 0; i < r.reasons.size(); ++i) {
            if (i > 0)
                m_reasons += ',';
            record::append_json_string(r.reasons[i], m_reasons);
        }
        m_reasons += ']';
        const int added = m_add_anomaly.bind(1, id)
                              .bind(2, r.ts)
                              .bind(3, r.value)
                              .bind(4, r.score.value_or(1.0))
                              .bind(5, std::string_view(m_reasons))
                              .run();
        if (added > 0) {
            m_count_anomaly.bind(1, id).run();
            ++m_counts.anomalies;
        }
    }
    if (++m_pending >= m_options.batch)
        commit();
}

// A reading after the newest stored one of its series is not stored (yet): its score is not tried,
// so a pass costs one look per series plus one UPDATE per score that may match.
void ScoreWriter::match_waiting() {
    if (m_waiting.empty())
        return;
    begin();
    std::unordered_map<std::int64_t, std::optional<core::Millis>> newest;
    auto stored_up_to = [&](std::int64_t id) {
        auto [it, fresh] = newest.try_emplace(id);
        if (fresh) {
            m_last_ts.bind(1, id);
            if (m_last_ts.step())
                it->second = m_last_ts.column_int(0);
            m_last_ts.reset();
        }
        return it->second;
    };
    std::erase_if(m_waiting, [&](const Waiting& w) {
        const auto top = stored_up_to(w.series_id);
        if (!top || w.ts > *top)
            return false;
        if (!update(w))
            return false;
        ++m_counts.late;
        return true;
    });
}

bool ScoreWriter::retry(core::Millis now) {
    while (!m_waiting.empty() && now - m_waiting.front().since >= m_options.wait_ms) {
        m_waiting.pop_front();
        ++m_counts.unmatched;
    }
    const std::int64_t version = data_version();
    if (version == m_seen_version)
        return false;
    m_seen_version = version;
    match_waiting();
    return true;
}

void ScoreWriter::finish() {
    match_waiting();
    m_counts.unmatched += m_waiting.size();
    m_waiting.clear();
}

void ScoreWriter::commit() {
    if (m_tx) {
        m_tx->commit();
        m_tx.reset();
    }
    m_pending = 0;
}

} // namespace iots::store
