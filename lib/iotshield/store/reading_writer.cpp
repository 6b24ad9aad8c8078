#include "iotshield/store/reading_writer.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/store/schema.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace iots::store {

namespace {

// Heterogeneous lookup: find by string_view without building a std::string per reading.
struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

struct SeriesState;

struct DeviceState {
    std::int64_t id = 0;
    std::string name;
    // Its series by sensor name, as met: a device has a few sensors, found by a scan without
    // hashing the sensor's name.
    std::vector<std::pair<std::string, SeriesState*>> series;
    core::Millis last_seen = 0; // newest ts in the open batch
    std::string location;       // last location seen in the open batch, empty: none
    std::string status;         // pending status update, empty: none
    core::Millis status_ts = 0;
    bool dirty = false;
};

struct RollupAgg;

struct SeriesState {
    std::int64_t id = 0;
    DeviceState* device = nullptr;
    std::string sensor; // its name
    // Deltas of the open batch.
    std::int64_t count = 0;
    std::int64_t anomalies = 0;
    core::Millis min_ts = 0;
    core::Millis max_ts = 0;
    double last_value = 0; // the value at max_ts
    bool dirty = false;
    // The greatest key (ts, seq) stored in this series, as this connection knows it while
    // top_epoch == Impl::epoch (top_any false: none). A reading with a greater key cannot be a
    // duplicate, so it can go into a multi-row INSERT without a look-up of its own.
    std::uint64_t top_epoch = 0;
    bool top_any = false;
    core::Millis top_ts = 0;
    std::int64_t top_seq = 0;
    // The rollup buckets this series used last in the open batch (valid while rollup_gen ==
    // Impl::rollup_gen): readings of one series mostly fall in the bucket of the one before.
    std::uint64_t rollup_gen = 0;
    std::int64_t rollup_bucket[2] = {0, 0};
    RollupAgg* rollup_agg[2] = {nullptr, nullptr};
    // The greatest bucket of each rollup tier stored for this series, as known while
    // rollup_top_epoch == Impl::epoch (INT64_MIN: none). A greater bucket has no row yet, so it
    // goes into a multi-row INSERT instead of an upsert of its own.
    std::uint64_t rollup_top_epoch = 0;
    std::int64_t rollup_top[2] = {0, 0};
};

// A reading proved new and waiting for the next multi-row INSERT; label and extra are kept in
// Impl::arena (the caller's Reading may be gone by then).
struct Buffered {
    std::int64_t series_id = 0;
    core::Millis ts = 0;
    double value = 0;
    std::int64_t seq = 0;
    double score = 0;
    bool has_score = false;
    int anomaly = -1; // -1: NULL
    std::uint32_t label_at = 0, label_len = 0, extra_at = 0, extra_len = 0;
};

// One bucket of a rollup tier, as the open batch adds to it (merged into the stored row by
// update_rollups). first_ts/last_ts are absolute ms here, offsets in the table.
struct RollupAgg {
    std::int64_t count = 0;
    double min = 0, max = 0, sum = 0, sumsq = 0, first = 0, last = 0;
    core::Millis first_ts = 0, last_ts = 0;
    std::int64_t anomalies = 0;
};

// Key of a (series, bucket) in a tier's map: buckets are epoch minutes or hours (< 2^32).
std::uint64_t rollup_key(std::int64_t series_id, std::int64_t bucket) {
    return (static_cast<std::uint64_t>(series_id) << 32) ^ static_cast<std::uint64_t>(bucket);
}

// The minute tier (narrow, schema v6) keeps count, min, max, sum and anomalies only.
void rollup_add_narrow(RollupAgg& a, double value, bool anomaly) {
    if (a.count == 0) {
        a.min = a.max = value;
    } else {
        a.min = std::min(a.min, value);
        a.max = std::max(a.max, value);
    }
    ++a.count;
    a.sum += value;
    if (anomaly)
        ++a.anomalies;
}

void rollup_add(RollupAgg& a, core::Millis ts, double value, bool anomaly) {
    if (a.count == 0) {
        a.min = a.max = a.first = a.last = value;
        a.first_ts = a.last_ts = ts;
    } else {
        a.min = std::min(a.min, value);
        a.max = std::max(a.max, value);
        if (ts < a.first_ts) { // a late reading: the earliest one is first
            a.first_ts = ts;
            a.first = value;
        }
        if (ts >= a.last_ts) {
            a.last_ts = ts;
            a.last = value;
        }
    }
    ++a.count;
    a.sum += value;
    a.sumsq += value * value;
    if (anomaly)
        ++a.anomalies;
}

// Rows per multi-row INSERT at most; a shorter run is split into powers of two (64, 32, ... 1).
constexpr std::size_t kMultiRowShift = 6;
constexpr std::size_t kMultiRow = std::size_t{1} << kMultiRowShift;
// Readings buffered at most before they are inserted (flush_buffered: sorted by key first); a
// batch is inserted in parts of this many (1 MiB of Buffered; 65,536 gained little more CPU time
// for 3.5 MB more memory).
constexpr std::size_t kBufferedRows = std::size_t{1} << 14;
constexpr int kColumns = 8;
// A plain row (no score, anomaly or extra members, as the nodes send them) binds only series_id,
// ts, value, seq and label: its statement has NULL in the other three places.
constexpr int kPlainColumns = 5;
constexpr std::int64_t kWriterCacheKiB = 8192; // the writer's page cache at least (raise_cache)
// The columns of a row of each rollup tier as the writer inserts them, and their count:
// rollup_minute is narrow (schema v6), no sumsq, first, last or their times.
constexpr const char* kRollupInsertColumns[2] = {
    " (series_id, bucket, count, min, max, sum, anomalies)",
    " (series_id, bucket, count, min, max, sum, sumsq, first, last, first_ms, last_ms, "
    "anomalies)"};
constexpr int kRollupColumns[2] = {7, 12};

bool key_greater(core::Millis ts, std::int64_t seq, core::Millis top_ts, std::int64_t top_seq) {
    return ts > top_ts || (ts == top_ts && seq > top_seq);
}

} // namespace

struct ReadingWriter::Impl {
    Database* db;
    WriterOptions options;
    WriterCounters counters;

    Statement rollback;
    Statement insert_reading, insert_noseq;
    Statement find_device, insert_device, update_device, update_status;
    Statement find_sensor, insert_sensor;
    Statement find_series, insert_series, update_series;
    Statement add_stat;
    Statement data_version, find_top;
    Statement insert_many[kMultiRowShift + 1];  // 2^k rows, prepared when first needed
    Statement insert_plain[kMultiRowShift + 1]; // 2^k plain rows (kPlainColumns)
    // The labels of plain rows, interned (a few names: iotshield(7)), and the one bound to each
    // row of each plain statement: bindings last across executions, so a row whose label is the
    // one already bound there is not bound again (nullptr: unknown or not interned).
    std::vector<std::unique_ptr<std::string>> labels;
    std::array<std::array<const std::string*, kMultiRow>, kMultiRowShift + 1> plain_label{};
    Statement retain_pick, retain_bound, retain_count, retain_delete, retain_series, retain_newest;
    Statement upsert_rollup[2];                     // minute, hour
    Statement insert_rollup[2][kMultiRowShift + 1]; // 2^k new rows, see insert_rollups
    Statement rollup_top[2];                        // the greatest bucket of a series
    Statement rollup_pick[2], rollup_bound[2], rollup_delete[2];
    Statement retain_share, budget_oldest, page_count, freelist_count, page_size, auto_vacuum;
    Statement chunk_old, chunk_erase, chunk_first, hot_oldest;

    // The rollup buckets the open batch added to, per tier (minute, hour).
    std::unordered_map<std::uint64_t, RollupAgg> rollups[2];
    struct RollupSlot {
        SeriesState* series = nullptr;
        std::int64_t bucket = 0;
        RollupAgg* agg = nullptr;
    };
    std::vector<RollupSlot> new_buckets;     // update_rollups: the buckets with no row yet
    std::vector<RollupSlot> rollup_order[2]; // as first touched; update_rollups sorts them
    std::uint64_t rollup_gen = 1; // bumped when the maps are cleared (SeriesState caches)

    StringMap<std::unique_ptr<DeviceState>> devices;
    StringMap<std::int64_t> sensors;
    std::unordered_map<std::uint64_t, std::unique_ptr<SeriesState>> series;
    std::vector<SeriesState*> dirty_series;
    std::vector<DeviceState*> dirty_devices;
    StringMap<std::int64_t> stats;

    // Bumped whenever another connection may have changed readings (PRAGMA data_version) or a
    // batch was rolled back: every SeriesState top is then looked up again before it is trusted.
    std::uint64_t epoch = 1;
    std::int64_t last_data_version = -1;
    std::vector<Buffered> buffered;
    std::string arena;

    bool open = false;
    std::size_t pending = 0;
    core::Millis batch_start = 0;
    std::uint64_t batch_stored = 0;
    std::uint64_t batch_duplicates = 0;
    core::Millis next_retain = 0;
    core::Millis next_compact = 0;
    std::uint64_t compact_stored = 0; // counters.stored at the last pass that caught up
    std::uint64_t step_stored = 0;    // ... at the last step

    // Compacted hours (chunk_table.hpp): a late or re-delivered reading is looked for there too.
    ChunkTable chunks;
    Compactor compactor;
    Statement noseq_hot;
    std::vector<ChunkRow> chunk_rows;

    // The last series used: readings of one series often come in runs.
    SeriesState* last_series = nullptr;

    Impl(Database& d, WriterOptions o)
        : db(&d), options(o), chunks(d),
          compactor(d, CompactOptions{o.compact_after_ms, o.compact_batch}) {
        raise_cache();
        rollback = db->prepare("ROLLBACK");
        // One B-tree (schema.hpp): the primary key is the only place a reading is written.
        insert_reading = db->prepare(
            "INSERT OR IGNORE INTO readings (series_id, ts, value, seq, score, anomaly, label, "
            "extra) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        // A seqless reading is (series, ts, value): stored unless one with that value is among
        // the seqless rows at its (series_id, ts), a short range of the primary key.
        insert_noseq = db->prepare(
            std::string("INSERT INTO readings (series_id, ts, value, seq, score, anomaly, label, "
                        "extra) SELECT ?1, ?2, ?3, ") +
            kNoSeqSql + ", ?5, ?6, ?7, ?8 WHERE NOT EXISTS (" + kSameNoSeqSql + ")");
        find_device = db->prepare("SELECT id FROM devices WHERE name = ?1");
        insert_device = db->prepare("INSERT INTO devices (name, first_seen) VALUES (?1, ?2)");
        update_device =
            db->prepare("UPDATE devices SET last_seen = max(coalesce(last_seen, ?2), ?2), "
                        "location = coalesce(?3, location) WHERE id = ?1");
        update_status = db->prepare("UPDATE devices SET status = ?2, status_ts = ?3 WHERE id = ?1");
        find_sensor = db->prepare("SELECT id FROM sensors WHERE name = ?1");
        insert_sensor = db->prepare("INSERT INTO sensors (name, unit) VALUES (?1, ?2)");
        find_series = db->prepare("SELECT id FROM series WHERE device_id = ?1 AND sensor_id = ?2");
        insert_series = db->prepare("INSERT INTO series (device_id, sensor_id) VALUES (?1, ?2)");
        // Deltas, so that two writers on one file (--share) keep the counts right.
        update_series = db->prepare(
            "UPDATE series SET count = count + ?2, anomalies = anomalies + ?3, "
            "first_ts = CASE WHEN first_ts IS NULL OR ?4 < first_ts THEN ?4 ELSE first_ts END, "
            "last_value = CASE WHEN last_ts IS NULL OR ?5 >= last_ts THEN ?6 ELSE last_value END, "
            "last_ts = CASE WHEN last_ts IS NULL OR ?5 >= last_ts THEN ?5 ELSE last_ts END "
            "WHERE id = ?1");
        data_version = db->prepare("PRAGMA data_version");
        find_top = db->prepare("SELECT ts, seq FROM readings WHERE series_id = ?1 "
                               "ORDER BY ts DESC, seq DESC LIMIT 1");
        buffered.reserve(kMultiRow);
        noseq_hot = db->prepare("SELECT coalesce(min(seq), 0), total(value = ?3) FROM readings "
                                "WHERE series_id = ?1 AND ts = ?2 AND seq < 0");
        add_stat = db->prepare("INSERT INTO stats (key, value) VALUES (?1, ?2) "
                               "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value");
        // One bucket merged into its stored row (or inserted): deltas add up.
        for (int tier = 0; tier < 2; ++tier) {
            std::string sql = std::string("INSERT INTO ") + kRollupTables[tier] +
                              kRollupInsertColumns[tier] +
                              (tier == 0 ? " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                                         : " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                                           "?11, ?12)") +
                              " ON CONFLICT (series_id, bucket) DO UPDATE SET count = count + "
                              "excluded.count, min = min(min, excluded.min), "
                              "max = max(max, excluded.max), sum = sum + excluded.sum, "
                              "anomalies = anomalies + excluded.anomalies";
            if (tier == 1)
                sql += ", sumsq = sumsq + excluded.sumsq, "
                       "first = CASE WHEN excluded.first_ms < first_ms THEN excluded.first ELSE "
                       "first END, first_ms = min(first_ms, excluded.first_ms), "
                       "last = CASE WHEN excluded.last_ms >= last_ms THEN excluded.last ELSE last "
                       "END, last_ms = max(last_ms, excluded.last_ms)";
            upsert_rollup[tier] = db->prepare(sql);
            rollup_top[tier] = db->prepare(std::string("SELECT max(bucket) FROM ") +
                                           kRollupTables[tier] + " WHERE series_id = ?1");
        }
        for (int tier = 0; tier < 2; ++tier) {
            const std::string table = kRollupTables[tier];
            rollup_pick[tier] =
                db->prepare("SELECT id FROM series s WHERE EXISTS (SELECT 1 FROM " + table +
                            " r WHERE r.series_id = s.id AND r.bucket < ?1)"
                            " LIMIT 1");
            rollup_bound[tier] = db->prepare(
                "SELECT bucket FROM " + table +
                " WHERE series_id = ?1 AND bucket < ?2 ORDER BY bucket LIMIT 1 OFFSET ?3");
            rollup_delete[tier] =
                db->prepare("DELETE FROM " + table + " WHERE series_id = ?1 AND bucket < ?2");
        }
        retain_share = db->prepare(
            "SELECT total(count), total(CASE WHEN first_ts >= ?1 THEN 0 WHEN last_ts < ?1 THEN "
            "count "
            "ELSE count * (?1 - first_ts) * 1.0 / max(last_ts - first_ts, 1) END) FROM series");
        budget_oldest = db->prepare("SELECT id, first_ts FROM series WHERE count > 0 AND "
                                    "first_ts IS NOT NULL ORDER BY first_ts LIMIT 1");
        page_count = db->prepare("PRAGMA page_count");
        freelist_count = db->prepare("PRAGMA freelist_count");
        page_size = db->prepare("PRAGMA page_size");
        auto_vacuum = db->prepare("PRAGMA auto_vacuum");
        // Retention walks the series whose oldest reading is too old, one batch at a time, on
        // the (series_id, ts, seq) primary key.
        retain_pick = db->prepare("SELECT id FROM series WHERE first_ts < ?1 LIMIT 1");
        retain_bound = db->prepare("SELECT ts FROM readings WHERE series_id = ?1 AND ts < ?2 "
                                   "ORDER BY ts LIMIT 1 OFFSET ?3");
        retain_count = db->prepare("SELECT count(*), total(anomaly = 1) FROM readings "
                                   "WHERE series_id = ?1 AND ts < ?2");
        retain_delete = db->prepare("DELETE FROM readings WHERE series_id = ?1 AND ts < ?2");
        // series.last_ts is the newest reading ever stored (deletes keep it), count the rows left.
        retain_newest = db->prepare("SELECT max(last_ts), total(count) FROM series");
        retain_series = db->prepare(
            "UPDATE series SET count = max(count - ?2, 0), anomalies = max(anomalies - ?3, 0), "
            "first_ts = ?4 WHERE id = ?1");
        // The compacted hours of a series that hold readings older than ?2, oldest first.
        chunk_old =
            db->prepare("SELECT start_ts, end_ts, n, anomalies FROM reading_chunks "
                        "WHERE series_id = ?1 AND start_ts < ?2 ORDER BY start_ts LIMIT ?3");
        chunk_erase =
            db->prepare("DELETE FROM reading_chunks WHERE series_id = ?1 AND start_ts = ?2");
        chunk_first = db->prepare(
            "SELECT start_ts FROM reading_chunks WHERE series_id = ?1 ORDER BY start_ts LIMIT 1");
        hot_oldest = db->prepare("SELECT min(ts) FROM readings WHERE series_id = ?1");
    }

    // A commit of a busy batch dirties several hundred pages: the new ones, and the last page of
    // every series in readings and in both rollup tiers. SQLite's default page cache (2 MB) did
    // not hold them: it spilled dirty pages into the WAL before the commit and dropped the pages
    // the next commit writes again, reading them back (1,000,000 readings of 120 series in
    // commits of 20,000: 174,000 pwrite and 111,000 pread calls; 123,000 and 38,000 with 8 MiB).
    // Raised to kWriterCacheKiB for this connection, never lowered.
    void raise_cache() {
        Statement size = db->prepare("PRAGMA cache_size");
        Statement page = db->prepare("PRAGMA page_size");
        const std::int64_t v = size.step() ? size.column_int(0) : 0;
        const std::int64_t page_bytes = page.step() ? page.column_int(0) : 4096;
        const std::int64_t bytes = v < 0 ? -v * 1024 : v * page_bytes;
        if (bytes < kWriterCacheKiB * 1024)
            db->exec("PRAGMA cache_size=-" + std::to_string(kWriterCacheKiB));
    }

    void begin_batch(core::Millis now) {
        if (open)
            return;
        db->begin_immediate();
        open = true;
        batch_start = now;
        // We hold the write lock now: nobody else can change readings until the commit. If
        // someone did since our last batch, forget what we knew of the series' greatest keys.
        std::int64_t version = 0;
        if (data_version.step())
            version = data_version.column_int(0);
        data_version.reset();
        if (version != last_data_version) {
            last_data_version = version;
            ++epoch;
        }
    }

    // Makes s.top_* current for this epoch (one look-up per series per epoch).
    void load_top(SeriesState& s) {
        if (s.top_epoch == epoch)
            return;
        find_top.bind(1, s.id);
        s.top_any = find_top.step();
        if (s.top_any) {
            s.top_ts = find_top.column_int(0);
            s.top_seq = find_top.column_int(1);
        }
        find_top.reset();
        s.top_epoch = epoch;
    }

    void raise_top(SeriesState& s, core::Millis ts, std::int64_t seq) {
        if (!s.top_any || key_greater(ts, seq, s.top_ts, s.top_seq)) {
            s.top_any = true;
            s.top_ts = ts;
            s.top_seq = seq;
        }
    }

    Statement& many(std::size_t shift, bool plain) {
        Statement& st = (plain ? insert_plain : insert_many)[shift];
        if (!st.prepared()) {
            std::string sql = "INSERT OR IGNORE INTO readings (series_id, ts, value, seq, score, "
                              "anomaly, label, extra) VALUES ";
            const char* const row = plain ? "(?,?,?,?,NULL,NULL,?,NULL)" : "(?,?,?,?,?,?,?,?)";
            for (std::size_t i = 0; i < (std::size_t{1} << shift); ++i)
                (sql += i == 0 ? "" : ",") += row;
            st = db->prepare(sql);
            if (plain)
                plain_label[shift].fill(nullptr);
        }
        return st;
    }

    static bool plain(const Buffered& b) noexcept {
        return !b.has_score && b.anomaly < 0 && b.extra_len == 0;
    }

    // The interned copy of a label (the empty string for none), nullptr past kMaxLabels of them.
    static constexpr std::size_t kMaxLabels = 32;
    const std::string* intern_label(std::string_view label) {
        for (const auto& l : labels)
            if (*l == label)
                return l.get();
        if (labels.size() >= kMaxLabels)
            return nullptr;
        return labels.emplace_back(std::make_unique<std::string>(label)).get();
    }

    // Inserts the buffered readings, 2^k rows a statement. OR IGNORE only because a failing
    // multi-row INSERT would need a statement journal (several times slower): every row was proved
    // new under the write lock, so each statement must change as many rows as it has.
    // In key order (series, ts, seq), so that consecutive rows go into the same leaf of readings
    // instead of one leaf per series in turn: the same rows and SQLite instructions, but about
    // half the CPU time of a bulk commit (the pages stay in the processor's caches). The keys are
    // distinct (each is past its series' greatest), so the order is total.
    void flush_buffered() {
        std::sort(buffered.begin(), buffered.end(), [](const Buffered& a, const Buffered& b) {
            if (a.series_id != b.series_id)
                return a.series_id < b.series_id;
            return a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq;
        });
        std::size_t at = 0;
        while (at < buffered.size()) {
            std::size_t shift = kMultiRowShift;
            while ((std::size_t{1} << shift) > buffered.size() - at)
                --shift;
            const std::size_t rows = std::size_t{1} << shift;
            const bool all_plain =
                std::all_of(buffered.begin() + static_cast<std::ptrdiff_t>(at),
                            buffered.begin() + static_cast<std::ptrdiff_t>(at + rows), plain);
            Statement& st = many(shift, all_plain);
            int p = 1;
            for (std::size_t i = at; i < at + rows;
                 ++i, p += all_plain ? kPlainColumns : kColumns) {
                const Buffered& b = buffered[i];
                st.bind(p, std::int64_t{b.series_id});
                st.bind(p + 1, std::int64_t{b.ts});
                st.bind(p + 2, b.value);
                st.bind(p + 3, std::int64_t{b.seq});
                if (all_plain) {
                    const std::string_view label =
                        std::string_view(arena).substr(b.label_at, b.label_len);
                    const std::string* interned = intern_label(label);
                    const std::string*& bound = plain_label[shift][i - at];
                    if (interned != nullptr && interned == bound)
                        continue; // bound there already
                    bound = nullptr;
                    if (label.empty())
                        st.bind_null(p + 4);
                    else
                        st.bind_static(p + 4,
                                       interned != nullptr ? std::string_view(*interned) : label);
                    bound = interned;
                    continue;
                }
                if (b.has_score)
                    st.bind(p + 4, b.score);
                else
                    st.bind_null(p + 4);
                if (b.anomaly >= 0)
                    st.bind(p + 5, std::int64_t{b.anomaly});
                else
                    st.bind_null(p + 5);
                if (b.label_len == 0)
                    st.bind_null(p + 6);
                else
                    st.bind_static(p + 6, std::string_view(arena).substr(b.label_at, b.label_len));
                if (b.extra_len == 0)
                    st.bind_null(p + 7);
                else
                    st.bind_static(p + 7, std::string_view(arena).substr(b.extra_at, b.extra_len));
            }
            if (const int changed = st.execute("insert"); changed != static_cast<int>(rows))
                throw Error(Exit::failure,
                            db->path() + ": " +
                                std::to_string(rows - static_cast<std::size_t>(changed)) +
                                " readings changed under the writer (stored by another connection "
                                "without changing PRAGMA data_version)");
            at += rows;
        }
        buffered.clear();
        arena.clear();
    }

    void buffer(const SeriesState& s, const record::Reading& r, std::int64_t seq) {
        Buffered& b = buffered.emplace_back();
        b.series_id = s.id;
        b.ts = r.ts;
        b.value = r.value;
        b.seq = seq;
        b.has_score = r.score.has_value();
        b.score = r.score.value_or(0);
        b.anomaly = r.anomaly ? (*r.anomaly ? 1 : 0) : -1;
        b.label_at = static_cast<std::uint32_t>(arena.size());
        b.label_len = static_cast<std::uint32_t>(r.label.size());
        arena += r.label;
        b.extra_at = static_cast<std::uint32_t>(arena.size());
        b.extra_len = static_cast<std::uint32_t>(r.extra.size());
        arena += r.extra;
        if (buffered.size() == kBufferedRows)
            flush_buffered();
    }

    DeviceState& device(std::string_view name, core::Millis ts) {
        if (auto it = devices.find(name); it != devices.end())
            return *it->second;
        auto state = std::make_unique<DeviceState>();
        find_device.bind_static(1, name);
        if (find_device.step()) {
            state->id = find_device.column_int(0);
            find_device.reset();
        } else {
            find_device.reset();
            insert_device.bind_static(1, name);
            insert_device.bind(2, static_cast<std::int64_t>(ts));
            insert_device.run();
            state->id = db->last_insert_rowid();
        }
        auto& ref = *state;
        ref.name = name;
        devices.emplace(std::string(name), std::move(state));
        return ref;
    }

    std::int64_t sensor(std::string_view name, std::string_view unit) {
        if (auto it = sensors.find(name); it != sensors.end())
            return it->second;
        std::int64_t id = 0;
        find_sensor.bind_static(1, name);
        if (find_sensor.step()) {
            id = find_sensor.column_int(0);
            find_sensor.reset();
        } else {
            find_sensor.reset();
            insert_sensor.bind_static(1, name);
            if (unit.empty())
                insert_sensor.bind_null(2);
            else
                insert_sensor.bind_static(2, unit);
            insert_sensor.run();
            id = db->last_insert_rowid();
        }
        sensors.emplace(std::string(name), id);
        return id;
    }

    SeriesState& series_for(const record::Reading& r) {
        if (last_series != nullptr && r.sensor == last_series->sensor &&
            r.device == last_series->device->name)
            return *last_series;
        DeviceState& dev = device(r.device, r.ts);
        for (const auto& [name, state] : dev.series)
            if (name == r.sensor) {
                last_series = state;
                return *state;
            }
        const std::int64_t sensor_id = sensor(r.sensor, r.unit);
        const auto key =
            (static_cast<std::uint64_t>(dev.id) << 32) ^ static_cast<std::uint64_t>(sensor_id);
        auto it = series.find(key);
        if (it == series.end()) {
            auto state = std::make_unique<SeriesState>();
            state->device = &dev;
            find_series.bind(1, dev.id).bind(2, sensor_id);
            if (find_series.step()) {
                state->id = find_series.column_int(0);
                find_series.reset();
            } else {
                find_series.reset();
                insert_series.bind(1, dev.id).bind(2, sensor_id).run();
                state->id = db->last_insert_rowid();
                state->top_epoch = epoch; // a new series has no readings yet
                state->top_any = false;
            }
            it = series.emplace(key, std::move(state)).first;
        }
        last_series = it->second.get();
        last_series->sensor = r.sensor;
        dev.series.emplace_back(std::string(r.sensor), last_series);
        return *last_series;
    }

    void touch(DeviceState& dev) {
        if (!dev.dirty) {
            dev.dirty = true;
            dev.last_seen = std::numeric_limits<core::Millis>::min();
            dev.location.clear();
            dev.status.clear();
            dirty_devices.push_back(&dev);
        }
    }

    AddResult add(const record::Reading& r, core::Millis now) {
        begin_batch(now);
        SeriesState& s = series_for(r);
        load_top(s);
        // Past the greatest key of its series: new for sure, into the next multi-row INSERT. A
        // seqless reading must be past its ts (a row at that ms may hold the same value); it is
        // then the first seqless one there, seq -1.
        if (r.seq ? !s.top_any || key_greater(r.ts, *r.seq, s.top_ts, s.top_seq)
                  : !s.top_any || r.ts > s.top_ts) {
            const std::int64_t seq = r.seq.value_or(-1);
            raise_top(s, r.ts, seq);
            buffer(s, r, seq);
            ++pending;
            stored(s, r);
            return AddResult::stored;
        }
        // A reading at or before the greatest key of its series (late, re-delivered, or seqless
        // at the same ms): alone, after the buffered ones (an equal key among them must be stored
        // first).
        flush_buffered();
        // Its hour may have been compacted: a duplicate there, or a seqless reading whose seq
        // must be below the chunk's at its ms.
        std::optional<std::int64_t> seq = r.seq;
        if (chunks.load(s.id, chunk_start(r.ts), chunk_rows, ChunkFields::keys_values)) {
            if (find_reading(chunk_rows, r.ts, r.seq, r.value) != nullptr) {
                ++pending;
                ++batch_duplicates;
                return AddResult::duplicate;
            }
            if (!seq) {
                std::int64_t least = 0;
                for (const auto& c : chunk_rows)
                    if (c.ts == r.ts && c.seq < 0)
                        least = std::min(least, c.seq);
                noseq_hot.bind(1, s.id).bind(2, std::int64_t{r.ts}).bind(3, r.value);
                const bool same = noseq_hot.step() && noseq_hot.column_double(1) > 0;
                least = std::min(least, noseq_hot.column_int(0));
                noseq_hot.reset();
                if (same) {
                    ++pending;
                    ++batch_duplicates;
                    return AddResult::duplicate;
                }
                seq = least - 1;
            }
        }
        Statement& st = seq ? insert_reading : insert_noseq;
        st.bind(1, std::int64_t{s.id});
        st.bind(2, std::int64_t{r.ts});
        st.bind(3, r.value);
        if (seq)
            st.bind(4, std::int64_t{*seq});
        if (r.score)
            st.bind(5, *r.score);
        else
            st.bind_null(5);
        if (r.anomaly)
            st.bind(6, std::int64_t{*r.anomaly ? 1 : 0});
        else
            st.bind_null(6);
        if (r.label.empty())
            st.bind_null(7);
        else
            st.bind_static(7, r.label);
        if (r.extra.empty())
            st.bind_null(8);
        else
            st.bind_static(8, r.extra);
        const int changed = st.execute("insert");
        ++pending;
        if (changed == 0) {
            ++batch_duplicates;
            return AddResult::duplicate;
        }
        // A seqless reading is stored at (ts, -k) with k >= 1: (ts, -1) bounds it from above.
        raise_top(s, r.ts, r.seq.value_or(-1));
        stored(s, r);
        return AddResult::stored;
    }

    // The running counts of a reading just stored (or buffered).
    void stored(SeriesState& s, const record::Reading& r) {
        ++batch_stored;
        if (!s.dirty) {
            s.dirty = true;
            s.count = 0;
            s.anomalies = 0;
            s.min_ts = r.ts;
            s.max_ts = r.ts;
            s.last_value = r.value;
            dirty_series.push_back(&s);
        } else {
            s.min_ts = std::min(s.min_ts, r.ts);
            if (r.ts >= s.max_ts) {
                s.max_ts = r.ts;
                s.last_value = r.value;
            }
        }
        ++s.count;
        if (r.anomaly && *r.anomaly)
            ++s.anomalies;
        add_rollups(s, r.ts, r.value, r.anomaly.value_or(false));
        DeviceState& dev = *s.device;
        touch(dev);
        dev.last_seen = std::max(dev.last_seen, r.ts);
        if (!r.location.empty() && r.location != dev.location)
            dev.location = r.location;
    }

    // A stored reading into the open batch's minute and hour buckets of its series.
    void add_rollups(SeriesState& s, core::Millis ts, double value, bool anomaly) {
        const bool cached = s.rollup_gen == rollup_gen;
        s.rollup_gen = rollup_gen;
        for (int tier = 0; tier < 2; ++tier) {
            const std::int64_t bucket = ts / kRollupMillis[tier];
            if (!cached || s.rollup_bucket[tier] != bucket) {
                auto [it, fresh] = rollups[tier].try_emplace(rollup_key(s.id, bucket));
                if (fresh)
                    rollup_order[tier].push_back({&s, bucket, &it->second});
                s.rollup_bucket[tier] = bucket;
                s.rollup_agg[tier] = &it->second;
            }
            if (tier == 0)
                rollup_add_narrow(*s.rollup_agg[tier], value, anomaly);
            else
                rollup_add(*s.rollup_agg[tier], ts, value, anomaly);
        }
    }

    // The greatest bucket stored per tier for s (one look-up per series per epoch: another
    // connection may have added rows since; our own retention only lowers it, which is safe).
    void load_rollup_top(SeriesState& s) {
        if (s.rollup_top_epoch == epoch)
            return;
        for (int tier = 0; tier < 2; ++tier) {
            Statement& st = rollup_top[tier];
            st.bind(1, s.id);
            s.rollup_top[tier] = st.step() && !st.is_null(0)
                                     ? st.column_int(0)
                                     : std::numeric_limits<std::int64_t>::min();
            st.reset();
        }
        s.rollup_top_epoch = epoch;
    }

    // The INSERT of 2^shift new rows into a rollup tier, prepared when first needed. OR IGNORE,
    // as for readings (flush_buffered), only so that it needs no statement journal: every row was
    // proved new under the write lock, so each statement must insert as many rows as it has.
    Statement& insert_rollups(int tier, std::size_t shift) {
        Statement& st = insert_rollup[tier][shift];
        if (st.prepared())
            return st;
        const char* const row =
            kRollupColumns[tier] == 7 ? "(?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?,?,?)";
        std::string sql = std::string("INSERT OR IGNORE INTO ") + kRollupTables[tier] +
                          kRollupInsertColumns[tier] + " VALUES ";
        for (std::size_t i = 0; i < (std::size_t{1} << shift); ++i)
            (sql += i == 0 ? "" : ",") += row;
        st = db->prepare(sql);
        return st;
    }

    // Binds one bucket of the open batch as the row at parameter p (1-based) of a tier's insert
    // or upsert.
    static void bind_rollup(Statement& st, int p, int tier, const RollupSlot& slot) {
        const RollupAgg& a = *slot.agg;
        st.bind(p, slot.series->id).bind(p + 1, slot.bucket).bind(p + 2, a.count);
        st.bind(p + 3, a.min).bind(p + 4, a.max).bind(p + 5, a.sum);
        if (tier == 0) {
            st.bind(p + 6, a.anomalies);
            return;
        }
        const core::Millis start = slot.bucket * kRollupMillis[tier];
        st.bind(p + 6, a.sumsq).bind(p + 7, a.first).bind(p + 8, a.last);
        st.bind(p + 9, static_cast<std::int64_t>(a.first_ts - start));
        st.bind(p + 10, static_cast<std::int64_t>(a.last_ts - start));
        st.bind(p + 11, a.anomalies);
    }

    // Merges the open batch's buckets into rollup_minute and rollup_hour (schema.cpp v4), in the
    // batch's transaction: the rollups always agree with the committed readings. A bucket the
    // batch touched is written once however many of its readings the batch holds: a bucket past
    // the greatest stored for its series (most of them: the minutes a commit closed) is a row of
    // a multi-row INSERT (up to 64 rows a statement, in key order); any other (the bucket the
    // last commit left open, a late reading's) an upsert of deltas, so that late readings and two
    // writers on one file (--share) add up.
    void update_rollups() {
        for (int tier = 0; tier < 2; ++tier) {
            std::vector<RollupSlot>& slots = rollup_order[tier];
            std::sort(slots.begin(), slots.end(), [](const RollupSlot& a, const RollupSlot& b) {
                return a.series->id != b.series->id ? a.series->id < b.series->id
                                                    : a.bucket < b.bucket;
            });
            new_buckets.clear();
            Statement& upsert = upsert_rollup[tier];
            for (const RollupSlot& slot : slots) {
                SeriesState& s = *slot.series;
                load_rollup_top(s);
                if (slot.bucket > s.rollup_top[tier]) {
                    new_buckets.push_back(slot);
                    s.rollup_top[tier] = slot.bucket; // sorted: the last is the greatest
                    continue;
                }
                bind_rollup(upsert, 1, tier, slot);
                upsert.run();
            }
            std::size_t at = 0;
            while (at < new_buckets.size()) {
                std::size_t shift = kMultiRowShift;
                while ((std::size_t{1} << shift) > new_buckets.size() - at)
                    --shift;
                const std::size_t rows = std::size_t{1} << shift;
                Statement& st = insert_rollups(tier, shift);
                for (std::size_t i = 0; i < rows; ++i)
                    bind_rollup(st, 1 + static_cast<int>(i) * kRollupColumns[tier], tier,
                                new_buckets[at + i]);
                if (const int changed = st.execute("insert"); changed != static_cast<int>(rows))
                    throw Error(Exit::failure,
                                db->path() + ": " + kRollupTables[tier] +
                                    " rows changed under the writer (stored by another "
                                    "connection without changing PRAGMA data_version)");
                at += rows;
            }
        }
        clear_rollups();
    }

    void clear_rollups() noexcept {
        ++rollup_gen;
        for (int tier = 0; tier < 2; ++tier) {
            rollups[tier].clear();
            rollup_order[tier].clear();
        }
    }

    void set_status(std::string_view name, std::string_view status, core::Millis ts,
                    core::Millis now) {
        begin_batch(now);
        DeviceState& dev = device(name, ts);
        touch(dev);
        dev.status = status;
        dev.status_ts = ts;
        ++pending;
    }

    void commit_batch() {
        if (!open) {
            if (stats.empty())
                return;
            db->begin_immediate(); // only stats pending (e.g. rejected lines)
            open = true;
        }
        flush_buffered();
        for (SeriesState* s : dirty_series) {
            update_series.bind(1, s->id)
                .bind(2, s->count)
                .bind(3, s->anomalies)
                .bind(4, static_cast<std::int64_t>(s->min_ts))
                .bind(5, static_cast<std::int64_t>(s->max_ts))
                .bind(6, s->last_value)
                .run();
            s->dirty = false;
        }
        for (DeviceState* d : dirty_devices) {
            if (d->last_seen != std::numeric_limits<core::Millis>::min()) {
                update_device.bind(1, d->id).bind(2, static_cast<std::int64_t>(d->last_seen));
                if (d->location.empty())
                    update_device.bind_null(3);
                else
                    update_device.bind(3, std::string_view(d->location));
                update_device.run();
            }
            if (!d->status.empty())
                update_status.bind(1, d->id)
                    .bind(2, std::string_view(d->status))
                    .bind(3, static_cast<std::int64_t>(d->status_ts))
                    .run();
            d->dirty = false;
        }
        update_rollups();
        if (batch_stored > 0)
            stats["total_readings"] += static_cast<std::int64_t>(batch_stored);
        if (batch_duplicates > 0)
            stats["duplicate_readings"] += static_cast<std::int64_t>(batch_duplicates);
        flush_stats();
        db->commit();
        open = false;
        counters.stored += batch_stored;
        counters.duplicates += batch_duplicates;
        ++counters.commits;
        dirty_series.clear();
        dirty_devices.clear();
        pending = 0;
        batch_stored = 0;
        batch_duplicates = 0;
    }

    void flush_stats() {
        for (auto& [key, delta] : stats)
            if (delta != 0)
                add_stat.bind(1, std::string_view(key)).bind(2, delta).run();
        stats.clear();
    }

    [[nodiscard]] bool retention_on() const noexcept {
        return options.retain_ms > 0 || options.retain_minutes_ms > 0 ||
               options.retain_hours_ms > 0 || options.max_db_bytes > 0;
    }

    // One step: at most one batch of one kind of work, in its own transaction, in this order:
    // the disk budget (the oldest raw rows), raw retention, minute and hour retention, then an
    // incremental vacuum of the pages the deletes freed. more is true when something was done.
    RetainStep retain_step(core::Millis now) {
        RetainStep step;
        if (!retention_on() || now < next_retain)
            return step;
        commit_batch();
        step.cutoff = options.retain_ms > 0 ? now - options.retain_ms : 0;
        db->begin_immediate();
        try {
            bool did = false;
            if (options.max_db_bytes > 0) {
                step.used_bytes = used_bytes();
                if (step.used_bytes > options.max_db_bytes / 10 * 9)
                    did = trim_to_budget(step);
            }
            if (!did && options.retain_ms > 0)
                did = retain_raw(step);
            const core::Millis tier_ms[2] = {options.retain_minutes_ms, options.retain_hours_ms};
            for (int tier = 0; tier < 2 && !did; ++tier)
                if (tier_ms[tier] > 0)
                    did = retain_rollup(tier, now - tier_ms[tier], step);
            if (!did)
                did = vacuum_step(step);
            flush_stats();
            db->commit();
            step.more = did;
            if (!did)
                next_retain = now + options.retain_every_ms;
            return step;
        } catch (...) {
            stats.clear();
            rollback_quietly();
            throw;
        }
    }

    std::int64_t pragma_int(Statement& st) {
        const std::int64_t v = st.step() ? st.column_int(0) : 0;
        st.reset();
        return v;
    }

    // Bytes of the pages in use (the file less its free pages), what the budget counts.
    std::int64_t used_bytes() {
        return (pragma_int(page_count) - pragma_int(freelist_count)) * pragma_int(page_size);
    }

    // Deletes the readings of series_id older than cutoff from its compacted hours, the oldest
    // chunks first and a few a step: whole chunks whose readings are all older, the chunk that
    // holds the cutoff rewritten without its older readings. Adds to n and anomalies.
    void delete_chunks(std::int64_t series_id, core::Millis cutoff, std::int64_t& n,
                       std::int64_t& anomalies) {
        chunk_old.bind(1, series_id)
            .bind(2, std::int64_t{cutoff})
            .bind(3,
                  static_cast<std::int64_t>(std::max<std::size_t>(1, options.retain_batch / 1000)));
        std::vector<std::array<std::int64_t, 4>> old; // start_ts, end_ts, n, anomalies
        while (chunk_old.step())
            old.push_back({chunk_old.column_int(0), chunk_old.column_int(1),
                           chunk_old.column_int(2), chunk_old.column_int(3)});
        chunk_old.reset();
        for (const auto& c : old) {
            if (c[1] < cutoff) {
                chunk_erase.bind(1, series_id).bind(2, c[0]).run();
                n += c[2];
                anomalies += c[3];
                continue;
            }
            if (!chunks.load(series_id, c[0], chunk_rows))
                continue;
            const auto keep = std::find_if(chunk_rows.begin(), chunk_rows.end(),
                                           [&](const ChunkRow& r) { return r.ts >= cutoff; });
            for (auto it = chunk_rows.begin(); it != keep; ++it) {
                ++n;
                if (it->anomaly.value_or(false))
                    ++anomalies;
            }
            chunk_rows.erase(chunk_rows.begin(), keep);
            chunks.save(series_id, c[0], chunk_rows);
        }
    }

    // The ts of the oldest reading of series_id, in readings or in its oldest chunk.
    std::optional<std::int64_t> oldest_ts(std::int64_t series_id) {
        std::optional<std::int64_t> oldest;
        hot_oldest.bind(1, series_id);
        if (hot_oldest.step() && !hot_oldest.is_null(0))
            oldest = hot_oldest.column_int(0);
        hot_oldest.reset();
        chunk_first.bind(1, series_id);
        std::optional<std::int64_t> start;
        if (chunk_first.step())
            start = chunk_first.column_int(0);
        chunk_first.reset();
        if (start && (!oldest || *start < *oldest) &&
            chunks.load(series_id, *start, chunk_rows, ChunkFields::keys_values) &&
            !chunk_rows.empty() && (!oldest || chunk_rows.front().ts < *oldest))
            oldest = chunk_rows.front().ts;
        return oldest;
    }

    // Deletes rows of series_id older than cutoff, in readings and reading_chunks, at most about
    // retain_batch of them; returns how many, with the series' counts and the stats following.
    std::int64_t delete_raw(std::int64_t series_id, core::Millis cutoff) {
        std::int64_t chunk_n = 0, chunk_anomalies = 0;
        delete_chunks(series_id, cutoff, chunk_n, chunk_anomalies);
        // Delete below the ts of the (retain_batch+1)-th old row, or below the cutoff: a range
        // delete on the index, at most about retain_batch rows (ties on ts aside).
        std::int64_t bound = cutoff;
        retain_bound.bind(1, series_id)
            .bind(2, static_cast<std::int64_t>(cutoff))
            .bind(3, static_cast<std::int64_t>(options.retain_batch));
        if (retain_bound.step())
            bound = retain_bound.column_int(0);
        retain_bound.reset();
        retain_count.bind(1, series_id).bind(2, bound);
        std::int64_t n = 0, anomalies = 0;
        if (retain_count.step()) {
            n = retain_count.column_int(0);
            anomalies = static_cast<std::int64_t>(retain_count.column_double(1));
        }
        retain_count.reset();
        if (n == 0 && bound != cutoff) { // retain_batch+ rows share one ts: take them all
            bound = bound + 1;
            retain_count.bind(1, series_id).bind(2, bound);
            if (retain_count.step()) {
                n = retain_count.column_int(0);
                anomalies = static_cast<std::int64_t>(retain_count.column_double(1));
            }
            retain_count.reset();
        }
        retain_delete.bind(1, series_id).bind(2, bound).run();
        n += chunk_n;
        anomalies += chunk_anomalies;
        retain_series.bind(1, series_id).bind(2, n).bind(3, anomalies);
        if (const auto oldest = oldest_ts(series_id))
            retain_series.bind(4, *oldest);
        else
            retain_series.bind_null(4);
        retain_series.run();
        stats["total_readings"] -= n;
        stats["deleted_readings"] += n;
        counters.deleted += static_cast<std::uint64_t>(n);
        return n;
    }

    bool retain_raw(RetainStep& step) {
        if (!options.retain_force && all_older(step, step.cutoff))
            return false;
        retain_pick.bind(1, static_cast<std::int64_t>(step.cutoff));
        if (!retain_pick.step()) {
            retain_pick.reset();
            return false;
        }
        const std::int64_t series_id = retain_pick.column_int(0);
        retain_pick.reset();
        if (!step.share_known)
            estimate_share(step);
        step.deleted = static_cast<std::uint64_t>(delete_raw(series_id, step.cutoff));
        return true;
    }

    // Over the budget: the oldest raw rows go first, an hour of the series with the oldest.
    bool trim_to_budget(RetainStep& step) {
        if (!budget_oldest.step() || budget_oldest.is_null(1)) {
            budget_oldest.reset();
            return false; // no raw rows left: nothing this can free
        }
        const std::int64_t series_id = budget_oldest.column_int(0);
        const core::Millis oldest = budget_oldest.column_int(1);
        budget_oldest.reset();
        const std::int64_t n = delete_raw(series_id, oldest + 3600000);
        stats["budget_deleted_readings"] += n;
        step.budget_deleted = static_cast<std::uint64_t>(n);
        step.deleted = static_cast<std::uint64_t>(n);
        return n > 0;
    }

    // The share of the stored readings older than the cutoff, estimated from each series' count
    // and time span (no scan): said before a pass deletes most of the history.
    void estimate_share(RetainStep& step) {
        retain_share.bind(1, static_cast<std::int64_t>(step.cutoff));
        if (retain_share.step()) {
            const double total = retain_share.column_double(0);
            const double old = retain_share.column_double(1);
            step.share = total > 0 ? old / total : 0;
        }
        retain_share.reset();
        step.share_known = true;
    }

    // Rows of one series' rollup tier older than the cutoff, retain_batch at most.
    bool retain_rollup(int tier, core::Millis cutoff, RetainStep& step) {
        RetainStep probe;
        if (!options.retain_force && all_older(probe, cutoff))
            return false;
        const std::int64_t bucket = cutoff / kRollupMillis[tier];
        Statement& pick = rollup_pick[tier];
        pick.bind(1, bucket);
        if (!pick.step()) {
            pick.reset();
            return false;
        }
        const std::int64_t series_id = pick.column_int(0);
        pick.reset();
        std::int64_t bound = bucket;
        Statement& b = rollup_bound[tier];
        b.bind(1, series_id)
            .bind(2, bucket)
            .bind(3, static_cast<std::int64_t>(options.retain_batch));
        if (b.step())
            bound = b.column_int(0);
        b.reset();
        const int n = rollup_delete[tier].bind(1, series_id).bind(2, bound).run();
        stats[tier == 0 ? "deleted_minute_rows" : "deleted_hour_rows"] += n;
        step.rollups_deleted += static_cast<std::uint64_t>(n);
        return n > 0;
    }

    // With auto_vacuum=INCREMENTAL (new files, database.cpp), gives free pages back to the file
    // system, 1024 a step: the file shrinks, not just stops growing.
    bool vacuum_step(RetainStep& step) {
        if (pragma_int(auto_vacuum) != 2 || pragma_int(freelist_count) == 0)
            return false;
        const std::int64_t before = pragma_int(page_count);
        db->exec("PRAGMA incremental_vacuum(1024)");
        step.vacuumed_pages =
            static_cast<std::uint64_t>(std::max<std::int64_t>(0, before - pragma_int(page_count)));
        return step.vacuumed_pages > 0;
    }

    CompactStep compact_step(core::Millis now) {
        // Due every compact_every_ms once caught up, or as soon as another compact_batch / 20
        // readings were stored (history replayed fast settles hours faster than the clock; a
        // pass that finds nothing settled costs a look-up per series).
        if (options.compact_after_ms <= 0 ||
            (now < next_compact &&
             counters.stored + batch_stored <
                 compact_stored + std::max<std::size_t>(options.compact_batch / 20, 1)))
            return {};
        commit_batch();
        // At least as many as were stored since the last step, so that it keeps up.
        const std::uint64_t since = counters.stored - step_stored;
        step_stored = counters.stored;
        CompactStep step = compactor.step(std::max<std::uint64_t>(options.compact_batch, since));
        counters.compacted += step.moved;
        if (!step.more) {
            next_compact = now + options.compact_every_ms;
            compact_stored = counters.stored;
        }
        return step;
    }

    // True (and step.kept, step.newest set) when rows are stored and the newest is older than
    // the cutoff: the pass would empty the database (or the tier).
    bool all_older(RetainStep& step, core::Millis cutoff) {
        bool older = false;
        if (retain_newest.step() && !retain_newest.is_null(0)) {
            const std::int64_t newest = retain_newest.column_int(0);
            const auto rows = static_cast<std::int64_t>(retain_newest.column_double(1));
            if (rows > 0 && newest < cutoff) {
                older = true;
                step.kept = static_cast<std::uint64_t>(rows);
                step.newest = newest;
            }
        }
        retain_newest.reset();
        return older;
    }

    // After a failed batch the interned ids may name rows that were rolled back: forget them.
    void rollback_quietly() noexcept {
        db->rollback_quietly();
        open = false;
        pending = 0;
        batch_stored = batch_duplicates = 0;
        buffered.clear();
        arena.clear();
        clear_rollups();
        ++epoch;
        dirty_series.clear();
        dirty_devices.clear();
        last_series = nullptr;
        series.clear();
        devices.clear();
        sensors.clear();
    }
};

ReadingWriter::ReadingWriter(Database& db, WriterOptions options)
    : m_impl(std::make_unique<Impl>(db, options)) {
    if (options.batch_size == 0)
        m_impl->options.batch_size = 1;
}

ReadingWriter::~ReadingWriter() {
    if (m_impl)
        m_impl->rollback_quietly();
}

AddResult ReadingWriter::add(const record::Reading& r, core::Millis now) {
    try {
        return m_impl->add(r, now);
    } catch (...) { // e.g. a full disk: the whole batch is gone, the writer usable again
        m_impl->rollback_quietly();
        throw;
    }
}

void ReadingWriter::set_status(std::string_view device, std::string_view status, core::Millis ts,
                               core::Millis now) {
    try {
        m_impl->set_status(device, status, ts, now);
    } catch (...) {
        m_impl->rollback_quietly();
        throw;
    }
}

void ReadingWriter::add_stat(std::string_view key, std::int64_t delta) {
    auto it = m_impl->stats.find(key);
    if (it == m_impl->stats.end())
        m_impl->stats.emplace(std::string(key), delta);
    else
        it->second += delta;
}

std::size_t ReadingWriter::pending() const noexcept {
    return m_impl->pending;
}

std::optional<core::Millis> ReadingWriter::deadline() const noexcept {
    if (!m_impl->open)
        return std::nullopt;
    return m_impl->batch_start + m_impl->options.batch_ms;
}

bool ReadingWriter::due(core::Millis now) const noexcept {
    const Impl& i = *m_impl;
    return i.open &&
           (i.pending >= i.options.batch_size || now >= i.batch_start + i.options.batch_ms);
}

void ReadingWriter::commit() {
    try {
        m_impl->commit_batch();
    } catch (...) {
        m_impl->rollback_quietly();
        throw;
    }
}

RetainStep ReadingWriter::retain(core::Millis now) {
    try {
        return m_impl->retain_step(now);
    } catch (...) {
        m_impl->rollback_quietly();
        throw;
    }
}

CompactStep ReadingWriter::compact(core::Millis now) {
    try {
        return m_impl->compact_step(now);
    } catch (...) {
        m_impl->rollback_quietly();
        throw;
    }
}

const WriterCounters& ReadingWriter::counters() const noexcept {
    return m_impl->counters;
}

} // namespace iots::store
