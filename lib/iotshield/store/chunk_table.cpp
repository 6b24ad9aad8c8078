#include "iotshield/store/chunk_table.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <limits>

namespace iots::store {

namespace {

bool key_less(const ChunkRow& a, const ChunkRow& b) noexcept {
    return a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq;
}

std::int64_t anomalies_of(const std::vector<ChunkRow>& rows) {
    return std::count_if(rows.begin(), rows.end(),
                         [](const ChunkRow& r) { return r.anomaly.value_or(false); });
}

} // namespace

ChunkTable::ChunkTable(Database& db)
    : m_load(db.prepare("SELECT data FROM reading_chunks WHERE series_id = ?1 AND start_ts = ?2")),
      m_save(db.prepare("INSERT OR REPLACE INTO reading_chunks (series_id, start_ts, end_ts, n, "
                        "anomalies, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")),
      m_erase(db.prepare("DELETE FROM reading_chunks WHERE series_id = ?1 AND start_ts = ?2")) {}

bool ChunkTable::load(std::int64_t series_id, std::int64_t start, std::vector<ChunkRow>& rows,
                      ChunkFields fields) {
    rows.clear();
    m_load.bind(1, series_id).bind(2, start);
    try {
        if (!m_load.step()) {
            m_load.reset();
            return false;
        }
        decode_chunk(start, m_load.column_blob(0), rows, fields);
    } catch (...) {
        m_load.reset();
        throw;
    }
    m_load.reset();
    return true;
}

void ChunkTable::save(std::int64_t series_id, std::int64_t start,
                      const std::vector<ChunkRow>& rows) {
    if (rows.empty()) {
        m_erase.bind(1, series_id).bind(2, start).run();
        return;
    }
    m_save.bind(1, series_id)
        .bind(2, start)
        .bind(3, rows.back().ts)
        .bind(4, static_cast<std::int64_t>(rows.size()))
        .bind(5, anomalies_of(rows))
        .bind_blob(6, encode_chunk(start, rows))
        .run();
}

ChunkRow* find_reading(std::vector<ChunkRow>& rows, std::int64_t ts,
                       std::optional<std::int64_t> seq, double value) {
    ChunkRow key;
    key.ts = ts;
    key.seq = seq ? *seq : std::numeric_limits<std::int64_t>::min();
    auto it = std::lower_bound(rows.begin(), rows.end(), key, key_less);
    for (; it != rows.end() && it->ts == ts; ++it) {
        if (seq) {
            if (it->seq == *seq)
                return &*it;
            if (it->seq > *seq)
                return nullptr;
        } else if (it->seq < 0 && it->value == value) {
            return &*it;
        }
    }
    return nullptr;
}

Compactor::Compactor(Database& db, CompactOptions options)
    : m_db(&db), m_options(options), m_table(db),
      m_series(db.prepare("SELECT id, last_ts FROM series WHERE id >= ?1 AND last_ts IS NOT NULL "
                          "ORDER BY id")),
      m_oldest(db.prepare("SELECT min(ts) FROM readings WHERE series_id = ?1")),
      m_hot(db.prepare("SELECT ts, seq, value, score, anomaly, label, extra FROM readings WHERE "
                       "series_id = ?1 AND ts >= ?2 AND ts < ?3 ORDER BY ts, seq")),
      m_delete(db.prepare("DELETE FROM readings WHERE series_id = ?1 AND ts >= ?2 AND ts < ?3")) {
    if (m_options.batch_rows == 0)
        m_options.batch_rows = 1;
}

CompactStep Compactor::step() {
    return step(m_options.batch_rows);
}

CompactStep Compactor::step(std::uint64_t max_rows) {
    CompactStep out;
    if (m_options.after_ms <= 0)
        return out;
    m_db->begin_immediate();
    try {
        // Two rounds: from where the last step stopped to the end, then from the first series
        // (only when the first round did not start there: it would look at them all again).
        const std::int64_t start = m_next_series;
        for (int round = 0; round < 2 && out.moved < max_rows && (round == 0 || start > 0);
             ++round) {
            std::vector<std::pair<std::int64_t, std::int64_t>> series;
            m_series.bind(1, round == 0 ? m_next_series : std::int64_t{0});
            while (m_series.step())
                series.emplace_back(m_series.column_int(0), m_series.column_int(1));
            m_series.reset();
            for (const auto& [id, last_ts] : series) {
                while (out.moved < max_rows && move_one(id, last_ts, out)) {
                }
                if (out.moved >= max_rows) {
                    m_next_series = id;
                    out.more = true;
                    break;
                }
            }
            if (!out.more)
                m_next_series = 0;
            if (round == 0 && out.more)
                break;
        }
        m_db->commit();
    } catch (...) {
        m_db->rollback_quietly();
        throw;
    }
    return out;
}

// Moves the oldest hour of `readings` of one series into its chunk when settled.
bool Compactor::move_one(std::int64_t series_id, std::int64_t last_ts, CompactStep& out) {
    m_oldest.bind(1, series_id);
    const bool any = m_oldest.step() && !m_oldest.is_null(0);
    const std::int64_t oldest = any ? m_oldest.column_int(0) : 0;
    m_oldest.reset();
    if (!any)
        return false;
    const std::int64_t start = chunk_start(oldest);
    if (start > last_ts - m_options.after_ms - kChunkMs)
        return false;
    m_hot_rows.clear();
    m_hot.bind(1, series_id).bind(2, start).bind(3, start + kChunkMs);
    while (m_hot.step()) {
        ChunkRow r;
        r.ts = m_hot.column_int(0);
        r.seq = m_hot.column_int(1);
        r.value = m_hot.column_double(2);
        r.score = m_hot.column_optional_double(3);
        if (!m_hot.is_null(4))
            r.anomaly = m_hot.column_int(4) != 0;
        if (!m_hot.is_null(5))
            r.label = m_hot.column_text(5);
        if (!m_hot.is_null(6))
            r.extra = m_hot.column_text(6);
        m_hot_rows.push_back(std::move(r));
    }
    m_hot.reset();
    // Late readings of an hour already compacted: merged, the chunk's row kept on an equal key.
    if (m_table.load(series_id, start, m_rows)) {
        m_merged.clear();
        std::merge(m_rows.begin(), m_rows.end(), m_hot_rows.begin(), m_hot_rows.end(),
                   std::back_inserter(m_merged), key_less);
        m_merged.erase(std::unique(m_merged.begin(), m_merged.end(),
                                   [](const ChunkRow& a, const ChunkRow& b) {
                                       return a.ts == b.ts && a.seq == b.seq;
                                   }),
                       m_merged.end());
        m_table.save(series_id, start, m_merged);
    } else {
        m_table.save(series_id, start, m_hot_rows);
    }
    m_delete.bind(1, series_id).bind(2, start).bind(3, start + kChunkMs).run();
    out.moved += m_hot_rows.size();
    ++out.chunks;
    return true;
}

} // namespace iots::store
