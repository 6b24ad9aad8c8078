// Compact raw storage (issue 18): the chunk codec round-trips every field exactly; compaction moves
// readings into reading_chunks without changing any reading or score; the readers (raw_scan,
// Queries, read_history, window_sums) see hot rows and chunks as one; duplicates and scores still
// find compacted readings; retention deletes whole chunks. With the rollups of the writer (tiers):
// compaction leaves them alone, a flag flipped on a compacted reading moves their anomaly counts,
// raw retention and the disk budget reach into chunks while the rollup tiers keep their own time.
#define BOOST_TEST_MODULE store_chunks
#include "iotshield/core/error.hpp"
#include "iotshield/store/chunk_codec.hpp"
#include "iotshield/store/chunk_table.hpp"
#include "iotshield/store/database.hpp"
#include "iotshield/store/queries.hpp"
#include "iotshield/store/raw_scan.hpp"
#include "iotshield/store/reading_writer.hpp"
#include "iotshield/store/scores.hpp"
#include "iotshield/store/windows.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using iots::record::Reading;
using iots::store::AddResult;
using iots::store::ChunkFields;
using iots::store::ChunkRow;
using iots::store::Database;
using iots::store::kChunkMs;
using iots::store::ReadingWriter;
using iots::store::WriterOptions;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "iots-chunks-XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    [[nodiscard]] std::string file(const char* name) const { return (path / name).string(); }
};

std::int64_t scalar(Database& db, const std::string& sql) {
    auto st = db.prepare(sql);
    BOOST_REQUIRE(st.step());
    return st.column_int(0);
}

// Every field, the doubles as their bits: equal text means equal readings.
std::string show(const ChunkRow& r) {
    std::ostringstream o;
    o << r.ts << ' ' << r.seq << ' ' << std::bit_cast<std::uint64_t>(r.value) << ' ';
    if (r.score)
        o << std::bit_cast<std::uint64_t>(*r.score);
    else
        o << '-';
    o << ' ' << (r.anomaly ? (*r.anomaly ? "1" : "0") : "-") << ' '
      << (r.label ? "L" + *r.label : "-") << ' ' << (r.extra ? "E" + *r.extra : "-") << '\n';
    return o.str();
}

std::string show(const std::vector<ChunkRow>& rows) {
    std::string s;
    for (const auto& r : rows)
        s += show(r);
    return s;
}

// Every series of the file, read through scan_raw.
std::string dump(Database& db) {
    std::string s;
    auto ids = db.prepare("SELECT id FROM series ORDER BY id");
    std::vector<std::int64_t> series;
    while (ids.step())
        series.push_back(ids.column_int(0));
    for (const auto id : series) {
        s += "series " + std::to_string(id) + "\n";
        iots::store::scan_raw(db, id, iots::store::kMinTs, iots::store::kMaxTs,
                              [&](const ChunkRow& r) {
                                  s += show(r);
                                  return true;
                              });
    }
    return s;
}

Reading reading(std::string device, std::string sensor, std::int64_t ts, double value,
                std::optional<std::int64_t> seq) {
    Reading r;
    r.device = std::move(device);
    r.sensor = std::move(sensor);
    r.ts = ts;
    r.value = value;
    r.seq = seq;
    return r;
}

constexpr std::int64_t kT0 = 1759708800000; // 2025-10-06T00:00:00Z

// Two series over 5 hours at 5 s, with labels, an extra, scores and anomaly flags on some, and
// seqless readings (two at one ms) in the second.
void fill(Database& db, WriterOptions options = {}) {
    ReadingWriter w(db, options);
    for (std::int64_t i = 0; i < 5 * 720; ++i) {
        Reading a = reading("n1", "temperature", kT0 + i * 5000 + (i % 7),
                            20 + static_cast<double>(i % 97) * 0.01, i * 6);
        a.label = i % 500 == 3 ? "fire" : "normal";
        if (i % 1000 == 11)
            a.extra = R"({"privacy":{"mech":"laplace"}})";
        if (i % 3 == 0)
            a.score = 0.125 * static_cast<double>(i % 9);
        if (i % 5 == 0)
            a.anomaly = i % 10 == 0;
        BOOST_TEST(static_cast<int>(w.add(a, 0)) == static_cast<int>(AddResult::stored));
        Reading b =
            reading("n1", "motion", kT0 + i * 5000, static_cast<double>(i % 2), std::nullopt);
        w.add(b, 0);
        if (i % 100 == 0) {
            Reading c = b;
            c.value = 7.5; // a second seqless reading at that ms
            w.add(c, 0);
        }
    }
    w.commit();
}

} // namespace

BOOST_AUTO_TEST_CASE(codec_round_trip_is_exact) {
    const double inf = std::numeric_limits<double>::infinity();
    const std::vector<double> values{0.0,
                                     -0.0,
                                     0.1,
                                     -17.96,
                                     1e308,
                                     -1e-300,
                                     std::numeric_limits<double>::denorm_min(),
                                     std::numeric_limits<double>::max(),
                                     std::numeric_limits<double>::lowest(),
                                     9007199254740993.0,
                                     1.0 / 3.0,
                                     123456.789,
                                     inf};
    const std::int64_t start = -kChunkMs; // before the epoch: start is still the hour's
    std::vector<ChunkRow> rows;
    std::int64_t ts = start;
    for (std::size_t i = 0; i < values.size(); ++i) {
        ChunkRow r;
        ts += i % 3 == 0 ? 0 : static_cast<std::int64_t>(i * 997); // equal ts, irregular gaps
        r.ts = ts;
        r.seq = i == 0   ? std::numeric_limits<std::int64_t>::min()
                : i == 1 ? -1
                : i == 5 ? std::numeric_limits<std::int64_t>::max() - 1000
                         : static_cast<std::int64_t>(i * i * 1000); // gaps, and a drop
        if (i == 6)
            r.seq = 3;
        r.value = values[i];
        if (i % 2 == 0)
            r.score = values[values.size() - 1 - i];
        if (i % 3 != 1)
            r.anomaly = i % 3 == 0;
        if (i > 4 && i < 8)
            r.label = i == 6 ? "gas-leak" : "normal";
        if (i == 9)
            r.extra = R"({"privacy":{"epsilon":0.5}})";
        if (i == 10)
            r.label = std::string(); // empty, not NULL
        rows.push_back(r);
    }
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, rows.size()}) {
        const std::vector<ChunkRow> part(rows.begin(), rows.begin() + static_cast<long>(n));
        const std::string bytes = iots::store::encode_chunk(start, part);
        std::vector<ChunkRow> back;
        iots::store::decode_chunk(start, bytes, back);
        BOOST_TEST(show(back) == show(part));
        back.clear();
        iots::store::decode_chunk(start, bytes, back, ChunkFields::keys_values);
        BOOST_REQUIRE(back.size() == n);
        for (std::size_t i = 0; i < n; ++i) {
            BOOST_TEST(back[i].ts == part[i].ts);
            BOOST_TEST(back[i].seq == part[i].seq);
            BOOST_TEST(std::bit_cast<std::uint64_t>(back[i].value) ==
                       std::bit_cast<std::uint64_t>(part[i].value));
        }
    }
    // Damaged bytes are an error naming the chunk, never a crash or made-up readings.
    const std::string bytes = iots::store::encode_chunk(start, rows);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        std::vector<ChunkRow> back;
        BOOST_CHECK_THROW(iots::store::decode_chunk(start, bytes.substr(0, cut), back),
                          iots::Error);
    }
    BOOST_TEST(iots::store::chunk_start(-1) == -kChunkMs);
    BOOST_TEST(iots::store::chunk_start(kT0 + 1) == kT0);
}

BOOST_AUTO_TEST_CASE(a_regular_series_takes_a_few_bytes_a_reading) {
    std::vector<ChunkRow> rows;
    for (std::int64_t i = 0; i < 720; ++i) {
        ChunkRow r;
        r.ts = kT0 + i * 5000 + (i % 3);
        r.seq = i * 6;
        r.value = 20 + static_cast<double>(i % 50) * 0.01;
        r.label = "normal";
        rows.push_back(r);
    }
    const std::string bytes = iots::store::encode_chunk(kT0, rows);
    BOOST_TEST(bytes.size() < 720 * 4); // rows: about 37
}

BOOST_AUTO_TEST_CASE(compaction_keeps_every_reading_and_score) {
    TempDir dir;
    Database db(dir.file("x.db"));
    fill(db);
    // Scores after the fact, before compaction.
    {
        iots::store::ScoreWriter sw(db);
        Reading s = reading("n1", "temperature", kT0 + 10 * 5000 + 3, 20.1, 60);
        s.score = 0.987654321;
        s.anomaly = true;
        sw.write(s, 0);
        sw.commit();
    }
    const std::string before = dump(db);
    const std::int64_t rows = scalar(db, "SELECT count(*) FROM readings");
    const std::int64_t total = scalar(db, "SELECT sum(count) FROM series");
    std::vector<iots::store::WindowSums> sums_before = iots::store::window_sums(
        db, {"n1", "temperature"}, kT0, kT0 + 5 * kChunkMs, 600000, 20.1, 20.5);

    WriterOptions options;
    options.compact_after_ms = 3600000;
    options.compact_batch = 1000; // several steps
    ReadingWriter w(db, options);
    int steps = 0;
    iots::store::CompactStep step;
    std::uint64_t moved = 0;
    do {
        step = w.compact(0);
        moved += step.moved;
        BOOST_REQUIRE(++steps < 100);
    } while (step.more);
    // Newest at 4:59:55: hours 0..2 end at least 1 h before it; hour 3 and 4 stay rows.
    BOOST_TEST(scalar(db, "SELECT count(*) FROM reading_chunks") == 6);
    BOOST_TEST(static_cast<std::int64_t>(moved) ==
               rows - scalar(db, "SELECT count(*) FROM readings"));
    BOOST_TEST(scalar(db, "SELECT min(ts) FROM readings") >= kT0 + 3 * kChunkMs);
    BOOST_TEST(scalar(db, "SELECT sum(n) FROM reading_chunks") == static_cast<std::int64_t>(moved));
    BOOST_TEST(dump(db) == before);
    BOOST_TEST(scalar(db, "SELECT sum(count) FROM series") == total);
    // Nothing more is settled: a second pass moves nothing.
    BOOST_TEST(w.compact(0).moved == 0);

    const auto sums_after = iots::store::window_sums(db, {"n1", "temperature"}, kT0,
                                                     kT0 + 5 * kChunkMs, 600000, 20.1, 20.5);
    BOOST_REQUIRE(sums_after.size() == sums_before.size());
    for (std::size_t i = 0; i < sums_after.size(); ++i) {
        BOOST_TEST(sums_after[i].start == sums_before[i].start);
        BOOST_TEST(sums_after[i].count == sums_before[i].count);
        BOOST_TEST(std::bit_cast<std::uint64_t>(sums_after[i].clamped_sum) ==
                   std::bit_cast<std::uint64_t>(sums_before[i].clamped_sum));
        BOOST_TEST(sums_after[i].min == sums_before[i].min);
        BOOST_TEST(sums_after[i].max == sums_before[i].max);
        BOOST_TEST(sums_after[i].nonzero == sums_before[i].nonzero);
    }
}

BOOST_AUTO_TEST_CASE(window_sums_agree_with_sql_on_rows) {
    TempDir dir;
    Database db(dir.file("x.db"));
    fill(db);
    const auto sums = iots::store::window_sums(db, {"n1", "temperature"}, kT0 + 1234,
                                               kT0 + 2 * kChunkMs, 600000, 20.1, 20.5);
    auto q = db.prepare("SELECT (ts - ?1) / 600000 AS w, count(*), sum(max(20.1, min(20.5, value)))"
                        " FROM readings WHERE series_id = 1 AND ts >= ?1 AND ts < ?2 GROUP BY w"
                        " ORDER BY w");
    q.bind(1, kT0 + 1234).bind(2, kT0 + 2 * kChunkMs);
    std::size_t i = 0;
    while (q.step()) {
        BOOST_REQUIRE(i < sums.size());
        BOOST_TEST(sums[i].count == q.column_int(1));
        BOOST_TEST(std::bit_cast<std::uint64_t>(sums[i].clamped_sum) ==
                   std::bit_cast<std::uint64_t>(q.column_double(2)));
        ++i;
    }
    BOOST_TEST(i == sums.size());
}

BOOST_AUTO_TEST_CASE(readers_see_rows_and_chunks_as_one) {
    TempDir dir;
    const std::string path = dir.file("x.db");
    std::string before_range, before_recent, before_history;
    auto readers = [&](std::string& range, std::string& recent, std::string& history) {
        iots::store::Queries q(path);
        const auto r = q.readings("n1", "temperature", kT0 + 1800000, kT0 + 4 * kChunkMs, 100000);
        BOOST_REQUIRE(r.has_value());
        range.clear();
        for (const auto& p : r->points)
            range += std::to_string(p.ts) + " " + std::to_string(p.value) + "\n";
        range += "raw " + std::to_string(r->raw_count);
        recent.clear();
        for (const auto& x : q.recent_readings(5000, std::string("n1")))
            recent += std::to_string(x.ts) + " " + x.sensor + " " + std::to_string(x.stored_seq) +
                      " " + x.label + "\n";
        Database db(path, {.read_only = true, .create = false});
        history.clear();
        iots::store::HistoryFilter f;
        f.since = kT0 + 1000;
        f.until = kT0 + 4 * kChunkMs + 17;
        const auto counts = iots::store::read_history(db, f, [&](const Reading& x) {
            history += x.device + x.sensor + std::to_string(x.ts) + "\n";
        });
        history += std::to_string(counts.rows) + " " + std::to_string(counts.incidents);
    };
    {
        Database db(path);
        fill(db);
    }
    readers(before_range, before_recent, before_history);
    {
        Database db(path);
        WriterOptions options;
        options.compact_after_ms = 1;
        ReadingWriter w(db, options);
        while (w.compact(0).more) {
        }
        BOOST_TEST(scalar(db, "SELECT count(*) FROM reading_chunks") == 8);
    }
    std::string range, recent, history;
    readers(range, recent, history);
    BOOST_TEST(range == before_range);
    BOOST_TEST(recent == before_recent);
    BOOST_TEST(history == before_history);

    // The live stream's cursor starts at the newest key, and a late reading in a compacted hour
    // is read back in key order, then merged into its chunk by the next pass.
    Database db(path);
    iots::store::Queries q(path);
    auto cursor = q.cursor_now();
    BOOST_TEST(cursor.readings[1].ts == kT0 + (5 * 720 - 1) * 5000 + (5 * 720 - 1) % 7);
    BOOST_TEST(q.readings_after(cursor, 10).empty());
    const std::string all_before = dump(db);
    {
        ReadingWriter w(db, {});
        BOOST_TEST(static_cast<int>(w.add(reading("n1", "temperature", kT0 + 2501, 99.5, 3), 0)) ==
                   static_cast<int>(AddResult::stored));
        w.commit();
    }
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings WHERE ts < " +
                              std::to_string(kT0 + 3600000)) == 1);
    std::vector<std::int64_t> keys;
    iots::store::scan_raw(db, 1, kT0, kT0 + 12000, [&](const ChunkRow& r) {
        keys.push_back(r.ts);
        return true;
    });
    BOOST_TEST(keys == (std::vector<std::int64_t>{kT0, kT0 + 2501, kT0 + 5001, kT0 + 10002}));
    std::vector<std::int64_t> back;
    iots::store::RawReader raw(db);
    raw.scan_back(1, kT0, kT0 + 12000, [&](const ChunkRow& r) {
        back.push_back(r.ts);
        return true;
    });
    BOOST_TEST(back == (std::vector<std::int64_t>{kT0 + 10002, kT0 + 5001, kT0 + 2501, kT0}));
    const std::string with_late = dump(db);
    BOOST_TEST(with_late != all_before);
    WriterOptions options;
    options.compact_after_ms = 1;
    ReadingWriter w(db, options);
    while (w.compact(0).more) {
    }
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings WHERE ts < " +
                              std::to_string(kT0 + 3600000)) == 0);
    BOOST_TEST(dump(db) == with_late);
}

BOOST_AUTO_TEST_CASE(a_duplicate_of_a_compacted_reading_is_still_a_duplicate) {
    TempDir dir;
    Database db(dir.file("x.db"));
    fill(db);
    WriterOptions options;
    options.compact_after_ms = 1;
    ReadingWriter w(db, options);
    while (w.compact(0).more) {
    }
    const std::string before = dump(db);
    // With seq, without seq (same ts and value), and the second seqless one at its ms.
    BOOST_TEST(static_cast<int>(w.add(reading("n1", "temperature", kT0 + 5000 + 1, 20.01, 6), 0)) ==
               static_cast<int>(AddResult::duplicate));
    BOOST_TEST(static_cast<int>(w.add(reading("n1", "motion", kT0 + 5000, 1, std::nullopt), 0)) ==
               static_cast<int>(AddResult::duplicate));
    BOOST_TEST(static_cast<int>(w.add(reading("n1", "motion", kT0, 7.5, std::nullopt), 0)) ==
               static_cast<int>(AddResult::duplicate));
    w.commit();
    BOOST_TEST(w.counters().duplicates == 3U);
    BOOST_TEST(dump(db) == before);
    // A new seqless value at a compacted ms is stored below the chunk's seqs there (-1, -2).
    BOOST_TEST(static_cast<int>(w.add(reading("n1", "motion", kT0, 3.25, std::nullopt), 0)) ==
               static_cast<int>(AddResult::stored));
    w.commit();
    BOOST_TEST(scalar(db, "SELECT seq FROM readings WHERE series_id = 2 AND ts = " +
                              std::to_string(kT0)) == -3);
    BOOST_TEST(static_cast<int>(w.add(reading("n1", "motion", kT0, 3.25, std::nullopt), 0)) ==
               static_cast<int>(AddResult::duplicate));
    w.commit();
}

BOOST_AUTO_TEST_CASE(scores_reach_compacted_readings) {
    TempDir dir;
    Database db(dir.file("x.db"));
    fill(db);
    {
        WriterOptions options;
        options.compact_after_ms = 1;
        ReadingWriter w(db, options);
        while (w.compact(0).more) {
        }
    }
    iots::store::ScoreWriter sw(db);
    Reading s = reading("n1", "temperature", kT0 + 7 * 5000, 20.07, 42);
    s.score = 0.333333333333;
    s.anomaly = true;
    sw.write(s, 0);
    Reading m = reading("n1", "motion", kT0, 7.5, std::nullopt);
    m.score = 0.5;
    m.anomaly = false;
    sw.write(m, 0);
    sw.commit();
    BOOST_TEST(sw.counts().updated == 2U);
    BOOST_TEST(sw.waiting() == 0U);
    std::optional<double> score;
    std::optional<bool> anomaly;
    iots::store::scan_raw(db, 1, kT0 + 35000, kT0 + 35001, [&](const ChunkRow& r) {
        score = r.score;
        anomaly = r.anomaly;
        return true;
    });
    BOOST_TEST(score.value_or(0) == 0.333333333333);
    BOOST_TEST(anomaly.value_or(false));
    iots::store::scan_raw(db, 2, kT0, kT0 + 1, [&](const ChunkRow& r) {
        if (r.value == 7.5)
            score = r.score;
        return true;
    });
    BOOST_TEST(score.value_or(0) == 0.5);
}

BOOST_AUTO_TEST_CASE(retention_deletes_whole_chunks) {
    TempDir dir;
    Database db(dir.file("x.db"));
    fill(db);
    const std::int64_t total = scalar(db, "SELECT sum(count) FROM series");
    WriterOptions options;
    options.compact_after_ms = 1;
    options.retain_ms = 1;
    options.retain_force = true;
    ReadingWriter w(db, options);
    while (w.compact(0).more) {
    }
    // The cutoff 2.5 h in: hours 0 and 1 go, hour 2 (partly newer) keeps its newer half.
    const std::int64_t cutoff = kT0 + 2 * kChunkMs + kChunkMs / 2;
    std::uint64_t deleted = 0;
    for (int i = 0; i < 100; ++i) {
        const auto step = w.retain(cutoff + 1);
        deleted += step.deleted;
        if (!step.more)
            break;
    }
    BOOST_TEST(scalar(db, "SELECT min(start_ts) FROM reading_chunks") == kT0 + 2 * kChunkMs);
    BOOST_TEST(scalar(db, "SELECT min(first_ts) FROM series") >= cutoff);
    BOOST_TEST(scalar(db, "SELECT sum(count) FROM series") ==
               total - static_cast<std::int64_t>(deleted));
    std::int64_t left = 0;
    for (std::int64_t id : {1, 2})
        iots::store::scan_raw(db, id, iots::store::kMinTs, iots::store::kMaxTs,
                              [&](const ChunkRow&) {
                                  ++left;
                                  return true;
                              });
    BOOST_TEST(left == total - static_cast<std::int64_t>(deleted));
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'total_readings'") == left);
}

namespace {

// Every row of both rollup tiers, as text.
std::string rollups(Database& db) {
    std::string s;
    for (const char* table : {"rollup_minute", "rollup_hour"}) {
        // rollup_minute is narrow (schema v6): no sumsq, first, last or their times.
        const std::string cols = std::string(table) == "rollup_minute"
                                     ? "count, min, max, sum, anomalies"
                                     : "count, min, max, sum, sumsq, first, last, first_ms, "
                                       "last_ms, anomalies";
        auto st = db.prepare("SELECT series_id, bucket, " + cols + " FROM " + table +
                             " ORDER BY series_id, bucket");
        while (st.step()) {
            s += table;
            for (int c = 0; c < std::count(cols.begin(), cols.end(), ',') + 3; ++c)
                s += ' ' + (st.is_null(c) ? std::string("-") : std::to_string(st.column_double(c)));
            s += '\n';
        }
    }
    return s;
}

std::int64_t rollup_anomalies(Database& db, const char* table, std::int64_t bucket) {
    return scalar(db, std::string("SELECT anomalies FROM ") + table +
                          " WHERE series_id = 1 AND bucket = " + std::to_string(bucket));
}

std::int64_t raw_count(Database& db, std::int64_t series_id, std::int64_t t0, std::int64_t t1) {
    std::int64_t n = 0;
    iots::store::scan_raw(
        db, series_id, t0, t1,
        [&](const ChunkRow&) {
            ++n;
            return true;
        },
        ChunkFields::keys_values);
    return n;
}

} // namespace

BOOST_AUTO_TEST_CASE(compaction_scores_and_retention_keep_the_rollups_right) {
    TempDir dir;
    Database db(dir.file("x.db"));
    fill(db);
    const std::string before = rollups(db);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM rollup_hour") == 10); // 2 series x 5 hours
    WriterOptions options;
    options.compact_after_ms = 1;
    {
        ReadingWriter w(db, options);
        while (w.compact(0).more) {
        }
    }
    // Compaction moves readings, it does not store them again: the rollups are unchanged.
    BOOST_TEST(scalar(db, "SELECT count(*) FROM reading_chunks") > 0);
    BOOST_TEST(rollups(db) == before);

    // Reading 7 of n1/temperature (no flag) and reading 20 (flagged), both compacted.
    const std::int64_t ts7 = kT0 + 7 * 5000, ts20 = kT0 + 20 * 5000 + 6;
    BOOST_REQUIRE(scalar(db, "SELECT count(*) FROM readings WHERE series_id = 1 AND ts < " +
                                 std::to_string(ts20 + 1)) == 0);
    const std::int64_t minute7 = ts7 / 60000, minute20 = ts20 / 60000, hour = kT0 / 3600000;
    BOOST_REQUIRE(minute7 != minute20);
    const std::int64_t m7 = rollup_anomalies(db, "rollup_minute", minute7);
    const std::int64_t m20 = rollup_anomalies(db, "rollup_minute", minute20);
    const std::int64_t h = rollup_anomalies(db, "rollup_hour", hour);
    const std::int64_t chunk =
        scalar(db, "SELECT anomalies FROM reading_chunks WHERE series_id = 1 "
                   "AND start_ts = " +
                       std::to_string(kT0));
    {
        iots::store::ScoreWriter sw(db);
        Reading up = reading("n1", "temperature", ts7, 20.07, 42);
        up.score = 0.9;
        up.anomaly = true; // off -> on
        sw.write(up, 0);
        Reading down = reading("n1", "temperature", ts20, 20.20, 120);
        down.score = 0.1;
        down.anomaly = false; // on -> off
        sw.write(down, 0);
        Reading same = reading("n1", "temperature", kT0 + 30 * 5000 + 2, 20.30, 180);
        same.score = 0.95;
        same.anomaly = true; // on -> on: no change
        sw.write(same, 0);
        sw.commit();
        BOOST_TEST(sw.counts().updated == 3U);
    }
    BOOST_TEST(rollup_anomalies(db, "rollup_minute", minute7) == m7 + 1);
    BOOST_TEST(rollup_anomalies(db, "rollup_minute", minute20) == m20 - 1);
    BOOST_TEST(rollup_anomalies(db, "rollup_hour", hour) == h); // +1 - 1
    BOOST_TEST(scalar(db, "SELECT anomalies FROM reading_chunks WHERE series_id = 1 AND "
                          "start_ts = " +
                              std::to_string(kT0)) == chunk);

    // Retention by tier at 5 h 30 min: raw older than 2.5 h (in chunks: two whole hours and half
    // of the third), minutes older than 1 h 10 min, hours kept.
    const std::int64_t now = kT0 + 5 * kChunkMs + kChunkMs / 2;
    const std::int64_t raw_cutoff = kT0 + 2 * kChunkMs + kChunkMs / 2;
    const std::int64_t minute_cutoff = kT0 + kChunkMs + 10 * 60000;
    const std::int64_t hours_before = scalar(db, "SELECT count(*) FROM rollup_hour");
    const std::int64_t hour_readings = scalar(db, "SELECT sum(count) FROM rollup_hour");
    const std::int64_t newer = raw_count(db, 1, raw_cutoff, iots::store::kMaxTs) +
                               raw_count(db, 2, raw_cutoff, iots::store::kMaxTs);
    options.retain_ms = now - raw_cutoff;
    options.retain_minutes_ms = now - minute_cutoff;
    options.retain_force = true;
    options.retain_batch = 1000;
    {
        ReadingWriter w(db, options);
        int steps = 0;
        for (; steps < 1000; ++steps)
            if (!w.retain(now).more)
                break;
        BOOST_TEST(steps < 1000);
    }
    for (const std::int64_t id : {1, 2})
        BOOST_TEST(raw_count(db, id, iots::store::kMinTs, raw_cutoff) == 0);
    BOOST_TEST(raw_count(db, 1, iots::store::kMinTs, iots::store::kMaxTs) +
                   raw_count(db, 2, iots::store::kMinTs, iots::store::kMaxTs) ==
               newer);
    BOOST_TEST(scalar(db, "SELECT sum(count) FROM series") == newer);
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'total_readings'") == newer);
    BOOST_TEST(scalar(db, "SELECT min(first_ts) FROM series") >= raw_cutoff);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM reading_chunks WHERE start_ts < " +
                              std::to_string(kT0 + 2 * kChunkMs)) == 0);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM reading_chunks WHERE start_ts = " +
                              std::to_string(kT0 + 2 * kChunkMs)) == 2);
    // The rollup tiers keep their own time: minutes from 1 h 10 min, every hour.
    BOOST_TEST(scalar(db, "SELECT min(bucket) FROM rollup_minute") == minute_cutoff / 60000);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM rollup_minute WHERE bucket < " +
                              std::to_string(raw_cutoff / 60000)) > 0);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM rollup_hour") == hours_before);
    BOOST_TEST(scalar(db, "SELECT sum(count) FROM rollup_hour") == hour_readings);
}

BOOST_AUTO_TEST_CASE(the_disk_budget_deletes_compacted_hours_oldest_first) {
    TempDir dir;
    Database db(dir.file("x.db"));
    fill(db);
    WriterOptions options;
    options.compact_after_ms = 1;
    options.max_db_bytes = 1000; // far below: every step trims
    options.retain_batch = 1000;
    ReadingWriter w(db, options);
    while (w.compact(0).more) {
    }
    const std::string before = rollups(db);
    const std::int64_t total = scalar(db, "SELECT sum(count) FROM series");
    const auto step = w.retain(kT0 + 6 * kChunkMs);
    BOOST_TEST(step.budget_deleted > 0U);
    // The oldest hour went first: nothing before kT0 + 1 h in either series' oldest.
    BOOST_TEST(scalar(db, "SELECT min(first_ts) FROM series") >= kT0);
    BOOST_TEST(raw_count(db, 1, iots::store::kMinTs, kT0 + kChunkMs) +
                   raw_count(db, 2, iots::store::kMinTs, kT0 + kChunkMs) <
               2 * 720 + 36);
    int steps = 0;
    for (; steps < 1000; ++steps)
        if (!w.retain(kT0 + 6 * kChunkMs).more)
            break;
    BOOST_TEST(steps < 1000);
    // Every raw reading gone, from rows and chunks, the counts with them; rollups untouched.
    BOOST_TEST(scalar(db, "SELECT count(*) FROM reading_chunks") == 0);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 0);
    BOOST_TEST(scalar(db, "SELECT sum(count) FROM series") == 0);
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'budget_deleted_readings'") ==
               total);
    BOOST_TEST(rollups(db) == before);
}
