#include "iotshield/store/raw_scan.hpp"

#include <string>

namespace iots::store {

namespace {

constexpr const char* kFew = "SELECT ts, seq, value FROM readings";
constexpr const char* kAll = "SELECT ts, seq, value, score, anomaly, label, extra FROM readings";
constexpr const char* kRange = " WHERE series_id = ?1 AND ts >= ?2 AND ts < ?3";

class Reset {
public:
    explicit Reset(Statement& st) : m_st(st) {}
    ~Reset() { m_st.reset(); }
    Reset(const Reset&) = delete;
    Reset& operator=(const Reset&) = delete;

private:
    Statement& m_st;
};

void hot_row(const Statement& st, bool all, ChunkRow& r) {
    r.ts = st.column_int(0);
    r.seq = st.column_int(1);
    r.value = st.column_double(2);
    if (!all)
        return;
    r.score = st.column_optional_double(3);
    r.anomaly.reset();
    if (!st.is_null(4))
        r.anomaly = st.column_int(4) != 0;
    r.label.reset();
    if (!st.is_null(5))
        r.label = st.column_text(5);
    r.extra.reset();
    if (!st.is_null(6))
        r.extra = st.column_text(6);
}

bool before(const ChunkRow& a, const ChunkRow& b, bool back) noexcept {
    const bool less = a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq;
    const bool greater = a.ts != b.ts ? a.ts > b.ts : a.seq > b.seq;
    return back ? greater : less;
}

} // namespace

RawReader::RawReader(Database& db) {
    for (int back = 0; back < 2; ++back) {
        const std::string order = back != 0 ? " ORDER BY ts DESC, seq DESC" : " ORDER BY ts, seq";
        m_hot[back][0] = db.prepare(std::string(kFew) + kRange + order);
        m_hot[back][1] = db.prepare(std::string(kAll) + kRange + order);
        m_chunks[back] = db.prepare(
            std::string("SELECT start_ts, data FROM reading_chunks WHERE series_id = ?1 AND "
                        "start_ts > ?2 AND start_ts < ?3 ORDER BY start_ts") +
            (back != 0 ? " DESC" : ""));
    }
}

void RawReader::scan(std::int64_t series_id, std::int64_t t0, std::int64_t t1, const RawEach& each,
                     ChunkFields fields) {
    run(false, series_id, t0, t1, each, fields);
}

void RawReader::scan_back(std::int64_t series_id, std::int64_t t0, std::int64_t t1,
                          const RawEach& each, ChunkFields fields) {
    run(true, series_id, t0, t1, each, fields);
}

void RawReader::run(bool back, std::int64_t series_id, std::int64_t t0, std::int64_t t1,
                    const RawEach& each, ChunkFields fields) {
    if (t0 >= t1)
        return;
    const bool all = fields == ChunkFields::all;
    Statement& hot = m_hot[back ? 1 : 0][all ? 1 : 0];
    Statement& chunks = m_chunks[back ? 1 : 0];
    Reset hot_reset(hot), chunks_reset(chunks);
    hot.bind(1, series_id).bind(2, t0).bind(3, t1);
    // A chunk starting after t0 - kChunkMs may hold readings at t0 or later.
    chunks.bind(1, series_id).bind(2, t0 < kMinTs + kChunkMs ? kMinTs : t0 - kChunkMs).bind(3, t1);
    ChunkRow h;
    bool have_hot = hot.step();
    if (have_hot)
        hot_row(hot, all, h);
    m_rows.clear();
    std::size_t at = 0;
    bool have_chunks = true;
    for (;;) {
        // The next chunk row in range, loading chunks as needed.
        const ChunkRow* c = nullptr;
        while (c == nullptr && have_chunks) {
            if (at < m_rows.size()) {
                const ChunkRow& r = back ? m_rows[m_rows.size() - 1 - at] : m_rows[at];
                if (r.ts >= t0 && r.ts < t1)
                    c = &r;
                else
                    ++at;
            } else if (chunks.step()) {
                m_rows.clear();
                at = 0;
                decode_chunk(chunks.column_int(0), chunks.column_blob(1), m_rows, fields);
            } else {
                have_chunks = false;
            }
        }
        if (c == nullptr && !have_hot)
            return;
        if (c != nullptr && (!have_hot || before(*c, h, back))) {
            ++at;
            if (!each(*c))
                return;
            continue;
        }
        if (c != nullptr && c->ts == h.ts && c->seq == h.seq) { // both (a race): the chunk's
            have_hot = hot.step();
            if (have_hot)
                hot_row(hot, all, h);
            continue;
        }
        if (!each(h))
            return;
        have_hot = hot.step();
        if (have_hot)
            hot_row(hot, all, h);
    }
}

std::optional<std::pair<std::int64_t, std::int64_t>> RawReader::newest_key(std::int64_t series_id) {
    std::optional<std::pair<std::int64_t, std::int64_t>> key;
    run(
        true, series_id, kMinTs, kMaxTs,
        [&](const ChunkRow& r) {
            key.emplace(r.ts, r.seq);
            return false;
        },
        ChunkFields::keys_values);
    return key;
}

void scan_raw(Database& db, std::int64_t series_id, std::int64_t t0, std::int64_t t1,
              const RawEach& each, ChunkFields fields) {
    RawReader reader(db);
    reader.scan(series_id, t0, t1, each, fields);
}

} // namespace iots::store
