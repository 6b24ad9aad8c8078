// Storage tiers (issue 18): the per-minute and per-hour rollups the writer keeps, their
// migration on an older file, retention per tier, the disk budget, the incremental vacuum, and
// the tier a range query reads.
#define BOOST_TEST_MODULE store_rollups
#include "iotshield/store/database.hpp"
#include "iotshield/store/queries.hpp"
#include "iotshield/store/reading_writer.hpp"
#include "iotshield/store/schema.hpp"
#include "iotshield/store/scores.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using iots::record::Reading;
using iots::store::Database;
using iots::store::Queries;
using iots::store::ReadingWriter;
using iots::store::RetainStep;
using iots::store::ScoreWriter;
using iots::store::WriterOptions;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "iots-rollups-XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    [[nodiscard]] std::string file(const char* name) const { return (path / name).string(); }
};

Reading reading(std::string device, std::string sensor, iots::core::Millis ts, double value,
                std::optional<std::int64_t> seq = std::nullopt) {
    Reading r;
    r.device = std::move(device);
    r.sensor = std::move(sensor);
    r.ts = ts;
    r.value = value;
    r.seq = seq;
    return r;
}

std::int64_t scalar(Database& db, const std::string& sql) {
    auto st = db.prepare(sql);
    BOOST_REQUIRE(st.step());
    return st.column_int(0);
}

// The columns of a tier: rollup_minute is narrow (schema v6), rollup_hour has them all.
std::string columns(const std::string& table) {
    return table == "rollup_minute"
               ? "count, min, max, sum, anomalies"
               : "count, min, max, sum, sumsq, first, last, first_ms, last_ms, anomalies";
}

// One rollup row as text: "count min max sum anomalies" (minutes) or "count min max sum sumsq
// first last first_ms last_ms anomalies" (hours).
std::string row(Database& db, const char* table, std::int64_t bucket) {
    const std::string cols = columns(table);
    auto st = db.prepare("SELECT " + cols + " FROM " + table + " WHERE bucket = ?1");
    st.bind(1, bucket);
    if (!st.step())
        return "none";
    std::string out;
    const auto n = std::count(cols.begin(), cols.end(), ',') + 1;
    for (int i = 0; i < n; ++i) {
        if (i > 0)
            out += ' ';
        const double v = st.column_double(i);
        out += v == static_cast<double>(static_cast<std::int64_t>(v))
                   ? std::to_string(static_cast<std::int64_t>(v))
                   : std::to_string(v);
    }
    return out;
}

// Every rollup row of both tiers, in key order, for comparing two ways of building them.
std::vector<std::string> all_rows(Database& db) {
    std::vector<std::string> out;
    for (const char* table : iots::store::kRollupTables) {
        const std::string cols = columns(table);
        const auto n = std::count(cols.begin(), cols.end(), ',') + 3; // and series_id, bucket
        auto st = db.prepare("SELECT series_id, bucket, " + cols + " FROM " + table +
                             " ORDER BY series_id, bucket");
        while (st.step()) {
            std::string line = table;
            for (int i = 0; i < n; ++i)
                line += ' ' + std::to_string(st.column_double(i));
            out.push_back(line);
        }
    }
    return out;
}

constexpr std::int64_t kMin = 60000;
constexpr std::int64_t kHour = 3600000;

} // namespace

// Minute 59 of hour 0, then minutes 60 and 61 (hour 1): each reading in its own minute and hour.
BOOST_AUTO_TEST_CASE(rollups_follow_readings_across_a_minute_and_an_hour_boundary) {
    TempDir dir;
    Database db(dir.file("b.db"));
    ReadingWriter w(db);
    w.add(reading("d1", "temperature", 59 * kMin + 1000, 20.5, 1), 0);  // minute 59, hour 0
    w.add(reading("d1", "temperature", 59 * kMin + 59999, 21.5, 2), 0); // minute 59, hour 0
    w.add(reading("d1", "temperature", 60 * kMin, 19, 3), 0);           // minute 60, hour 1
    w.add(reading("d1", "temperature", 60 * kMin + 30000, 23, 4), 0);   // minute 60, hour 1
    w.add(reading("d1", "temperature", 61 * kMin + 5, 22, 5), 0);       // minute 61, hour 1
    w.commit();
    // Minute 59: 20.5 and 21.5: sum 42 (minutes keep no sumsq, first or last: schema v6).
    BOOST_TEST(row(db, "rollup_minute", 59) == "2 20.500000 21.500000 42 0");
    // Minute 60: 19 and 23: sum 42.
    BOOST_TEST(row(db, "rollup_minute", 60) == "2 19 23 42 0");
    BOOST_TEST(row(db, "rollup_minute", 61) == "1 22 22 22 0");
    // Hour 0 holds minute 59: offsets from 00:00, first at 59 min 1 s = 3541000 ms.
    BOOST_TEST(row(db, "rollup_hour", 0) ==
               "2 20.500000 21.500000 42 882.500000 20.500000 21.500000 3541000 3599999 0");
    // Hour 1: 19, 23, 22: sum 64, sumsq 890 + 484 = 1374; last at 61 min 5 ms - 60 min = 60005.
    BOOST_TEST(row(db, "rollup_hour", 1) == "3 19 23 64 1374 19 22 0 60005 0");
}

// A late reading (before the newest of its series) goes into its own bucket: it becomes the
// first when it is the earliest, and the counts add up, also in a later batch.
BOOST_AUTO_TEST_CASE(a_late_reading_updates_its_bucket) {
    TempDir dir;
    Database db(dir.file("l.db"));
    ReadingWriter w(db);
    w.add(reading("d1", "gas", 10 * kMin + 20000, 400, 10), 0);
    w.add(reading("d1", "gas", 11 * kMin, 500, 11), 0);
    w.commit();
    BOOST_TEST(row(db, "rollup_minute", 10) == "1 400 400 400 0");
    // Late, in a new batch: minute 10 at 5 s (the earliest: first) and at 50 s (the last).
    w.add(reading("d1", "gas", 10 * kMin + 5000, 300, 8), 0);
    w.add(reading("d1", "gas", 10 * kMin + 50000, 450, 9), 0);
    w.commit();
    // 300 + 400 + 450 = 1150.
    BOOST_TEST(row(db, "rollup_minute", 10) == "3 300 450 1150 0");
    // Hour 0: minute 11's 500 stays the last (at 660000 ms); 300 at 605000 is the first.
    BOOST_TEST(row(db, "rollup_hour", 0) == "4 300 500 1650 702500 300 500 605000 660000 0");
}

// A re-delivered reading, with or without seq, in the same batch or a later one, is a duplicate:
// it is not stored and not counted in any bucket.
BOOST_AUTO_TEST_CASE(a_redelivered_duplicate_counts_once) {
    TempDir dir;
    Database db(dir.file("d.db"));
    ReadingWriter w(db);
    w.add(reading("d1", "temperature", 1000, 20, 1), 0);
    w.add(reading("d1", "temperature", 2000, 21), 0); // no seq
    w.add(reading("d1", "temperature", 1000, 20, 1), 0);
    w.commit();
    w.add(reading("d1", "temperature", 1000, 20, 1), 0);
    w.add(reading("d1", "temperature", 2000, 21), 0);
    w.commit();
    BOOST_TEST(w.counters().duplicates == 3u);
    BOOST_TEST(row(db, "rollup_minute", 0) == "2 20 21 41 0");
    BOOST_TEST(row(db, "rollup_hour", 0) == "2 20 21 41 841 20 21 1000 2000 0");
}

// Anomalies: flagged at ingest, then flags written later by detection (ScoreWriter): a flag that
// flips adds or takes one; the same flag again, or a redelivered score, changes nothing.
BOOST_AUTO_TEST_CASE(anomaly_flags_written_later_update_the_counts) {
    TempDir dir;
    Database db(dir.file("a.db"));
    {
        ReadingWriter w(db);
        auto flagged = reading("d1", "gas", 1000, 900, 1);
        flagged.anomaly = true;
        w.add(flagged, 0);
        w.add(reading("d1", "gas", 2000, 950, 2), 0);
        w.add(reading("d1", "gas", 3000, 990), 0); // no seq
        w.commit();
    }
    BOOST_TEST(scalar(db, "SELECT anomalies FROM rollup_minute") == 1);
    ScoreWriter scores(db);
    auto scored = [](iots::core::Millis ts, double value, std::optional<std::int64_t> seq,
                     bool anomaly) {
        auto r = reading("d1", "gas", ts, value, seq);
        r.score = anomaly ? 0.9 : 0.1;
        r.anomaly = anomaly;
        return r;
    };
    scores.write(scored(1000, 900, 1, true), 0);            // already flagged: no change
    scores.write(scored(2000, 950, 2, true), 0);            // flips: +1
    scores.write(scored(3000, 990, std::nullopt, true), 0); // seqless, flips: +1
    scores.write(scored(2000, 950, 2, true), 0);            // redelivered: no change
    scores.commit();
    BOOST_TEST(scalar(db, "SELECT anomalies FROM rollup_minute") == 3);
    BOOST_TEST(scalar(db, "SELECT anomalies FROM rollup_hour") == 3);
    scores.write(scored(1000, 900, 1, false), 0); // flips back: -1
    scores.commit();
    BOOST_TEST(scalar(db, "SELECT anomalies FROM rollup_minute") == 2);
    BOOST_TEST(scalar(db, "SELECT anomalies FROM rollup_hour") == 2);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings WHERE anomaly = 1") == 2);
}

// The fast path (in-memory buckets merged at each commit) against the reference (the migration's
// GROUP BY over the raw rows): the same rows, whatever the batching, late readings and
// duplicates. The reference is the v4 migration run on a copy turned back into v3.
BOOST_AUTO_TEST_CASE(writer_rollups_equal_the_migration_built_from_the_raw_rows) {
    TempDir dir;
    const auto path = dir.file("m.db");
    std::vector<std::string> by_writer;
    {
        Database db(path);
        ReadingWriter w(db, {.batch_size = 37});
        std::uint64_t x = 12345;
        for (int i = 0; i < 3000; ++i) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            const auto r = static_cast<std::int64_t>(x >> 33);
            const char* device = (r & 1) != 0 ? "d1" : "d2";
            // Mostly in order (7 s apart), every 10th late by up to 2 h, every 13th redelivered.
            std::int64_t ts = 1700000000000 + i * 7000LL;
            if (i % 10 == 9)
                ts -= (r % 7200) * 1000;
            auto reading_i =
                reading(device, "temperature", ts, static_cast<double>(r % 1000) / 8, i);
            reading_i.anomaly = r % 17 == 0;
            w.add(reading_i, 0);
            if (i % 13 == 12)
                BOOST_TEST((w.add(reading_i, 0) == iots::store::AddResult::duplicate));
            if (w.due(0))
                w.commit();
        }
        w.commit();
        by_writer = all_rows(db);
        BOOST_TEST(by_writer.size() > 100u);
        // Turned back into a version 3 file: no rollups, no chunks (v5).
        db.exec("DROP TABLE rollup_minute; DROP TABLE rollup_hour; DROP TABLE reading_chunks; "
                "PRAGMA user_version = 3");
    }
    Database migrated(path);
    BOOST_TEST(migrated.schema_version() == iots::store::latest_schema_version());
    const auto by_migration = all_rows(migrated);
    BOOST_TEST(by_migration == by_writer, boost::test_tools::per_element());
}

// The writer merges a batch's readings per bucket in memory and writes each bucket it touched
// once, in multi-row upserts of up to 64 buckets (reading_writer.cpp update_rollups): the rows are
// the same whether the readings are committed one at a time, a few at a time or all at once, with
// 3 series interleaved, several hundred buckets in one commit (64-row statements and a remainder),
// buckets that span commits, and late readings into buckets committed before.
BOOST_AUTO_TEST_CASE(rollups_are_the_same_one_reading_a_commit_or_all_in_one) {
    TempDir dir;
    const auto store = [&](const char* name, std::size_t batch) {
        Database db(dir.file(name));
        ReadingWriter w(db, {.batch_size = batch});
        std::uint64_t x = 777;
        for (int i = 0; i < 6000; ++i) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            const auto r = static_cast<std::int64_t>(x >> 33);
            static const char* const devices[] = {"d1", "d2", "d3"};
            // 3 s apart per device: 20 readings a minute, 100 minutes of each device...
            std::int64_t ts = 1700000000000 + (i / 3) * 3000LL;
            // ... every 11th late by up to 3 h (into a bucket an earlier commit wrote).
            if (i % 11 == 10)
                ts -= (r % 10800) * 1000;
            auto reading_i =
                reading(devices[i % 3], "gas", ts, static_cast<double>(r % 997) / 4, i);
            reading_i.anomaly = r % 23 == 0;
            w.add(reading_i, 0);
            if (w.due(0))
                w.commit();
        }
        w.commit();
        BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 6000);
        return all_rows(db);
    };
    const auto one_at_a_time = store("one.db", 1);
    const auto a_few = store("few.db", 97);
    const auto all_at_once = store("all.db", 100000);
    // 3 x 100 minutes and 3 x 2 hours at least (and the late ones' buckets): past 64 a tier.
    BOOST_TEST(one_at_a_time.size() > 300u);
    BOOST_TEST(a_few == one_at_a_time, boost::test_tools::per_element());
    BOOST_TEST(all_at_once == one_at_a_time, boost::test_tools::per_element());
}

// Two writers on one file (iots-ingest --share), taking turns: a bucket the other one created
// since this one's last commit is merged into, not inserted again (the greatest stored bucket a
// writer remembers per series is looked up again when PRAGMA data_version says the file changed).
BOOST_AUTO_TEST_CASE(two_writers_on_one_file_add_up_in_the_same_buckets) {
    TempDir dir;
    Database a_db(dir.file("s.db"));
    Database b_db(dir.file("s.db"));
    ReadingWriter a(a_db);
    ReadingWriter b(b_db);
    a.add(reading("d1", "temperature", 10 * kMin, 20, 1), 0);
    a.commit();
    // b: minute 10 again (another reading), then minutes 11 and 12, new to the file.
    b.add(reading("d1", "temperature", 10 * kMin + 1000, 22, 2), 0);
    b.add(reading("d1", "temperature", 11 * kMin, 24, 3), 0);
    b.add(reading("d1", "temperature", 12 * kMin, 26, 4), 0);
    b.commit();
    // a last knew minute 10 as the greatest: minute 12 is b's now.
    a.add(reading("d1", "temperature", 12 * kMin + 1000, 28, 5), 0);
    a.add(reading("d1", "temperature", 13 * kMin, 30, 6), 0);
    a.commit();
    BOOST_TEST(row(a_db, "rollup_minute", 10) == "2 20 22 42 0");
    BOOST_TEST(row(a_db, "rollup_minute", 11) == "1 24 24 24 0");
    BOOST_TEST(row(a_db, "rollup_minute", 12) == "2 26 28 54 0");
    BOOST_TEST(row(a_db, "rollup_minute", 13) == "1 30 30 30 0");
    // Hour 0: 20 22 24 26 28 30, first at 10 min, last at 13 min.
    BOOST_TEST(row(a_db, "rollup_hour", 0) == "6 20 30 150 3820 20 30 600000 780000 0");
}

// A version 5 file (rollup_minute with sumsq, first, last, first_ms and last_ms) keeps its minute
// rows through migration 6, which narrows the table; the writer then adds to them.
BOOST_AUTO_TEST_CASE(migration_6_narrows_the_minute_tier_and_keeps_its_rows) {
    TempDir dir;
    const std::string path = dir.file("v5.db");
    {
        Database db(path);
        db.exec("DROP TABLE rollup_minute; CREATE TABLE rollup_minute (series_id INTEGER NOT "
                "NULL, bucket INTEGER NOT NULL, count INTEGER NOT NULL, min REAL, max REAL, sum "
                "REAL, sumsq REAL, first REAL, last REAL, first_ms INTEGER, last_ms INTEGER, "
                "anomalies INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (series_id, bucket)) WITHOUT "
                "ROWID; INSERT INTO rollup_minute VALUES (1, 7, 3, 1.5, 4, 8.5, 30, 1.5, 4, 0, "
                "50000, 2); PRAGMA user_version = 5");
    }
    Database db(path);
    BOOST_TEST(db.schema_version() == iots::store::latest_schema_version());
    BOOST_TEST(row(db, "rollup_minute", 7) == "3 1.500000 4 8.500000 2");
    BOOST_TEST(scalar(db, "SELECT count(*) FROM pragma_table_info('rollup_minute')") == 7);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM pragma_table_info('rollup_minute') WHERE name IN "
                          "('sumsq', 'first', 'last', 'first_ms', 'last_ms')") == 0);
    ReadingWriter w(db);
    w.add(reading("d1", "temperature", 7 * kMin + 1000, 10, 1), 0); // series 1, minute 7
    w.commit();
    BOOST_TEST(row(db, "rollup_minute", 7) == "4 1.500000 10 18.500000 2");
}

// Raw, minute and hour rows each kept for their own time; a step deletes one tier's rows of one
// series, retain_batch at most.
BOOST_AUTO_TEST_CASE(retention_deletes_each_tier_after_its_own_time) {
    TempDir dir;
    Database db(dir.file("t.db"));
    // Ten hours of one reading a minute; now = 10 h. Raw kept 1 h, minutes 3 h, hours 6 h.
    ReadingWriter w(db, {.retain_ms = kHour,
                         .retain_minutes_ms = 3 * kHour,
                         .retain_hours_ms = 6 * kHour,
                         .retain_batch = 100,
                         .retain_every_ms = 1000});
    for (int i = 0; i < 600; ++i)
        w.add(reading("d1", "light", i * kMin, i, i), 0);
    w.commit();
    RetainStep step;
    int steps = 0;
    do {
        step = w.retain(10 * kHour);
        ++steps;
    } while (step.more && steps < 100);
    BOOST_TEST(!step.more);
    // Raw: ts >= 9 h: 60 rows; minutes >= 7 h: 180; hours >= 4 h: 6.
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 60);
    BOOST_TEST(scalar(db, "SELECT min(ts) FROM readings") == 9 * kHour);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM rollup_minute") == 180);
    BOOST_TEST(scalar(db, "SELECT min(bucket) FROM rollup_minute") == 7 * 60);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM rollup_hour") == 6);
    BOOST_TEST(scalar(db, "SELECT min(bucket) FROM rollup_hour") == 4);
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'deleted_minute_rows'") == 420);
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'deleted_hour_rows'") == 4);
    // 540 raw rows at 100 a step, 420 minute rows at 100, 4 hour rows: at least 6 + 5 + 1 steps.
    BOOST_TEST(steps >= 12);
}

// History older than a tier's time, with nothing newer stored (a simulated year replayed): kept
// in every tier unless forced, as for the raw rows (issue 15).
BOOST_AUTO_TEST_CASE(retention_keeps_old_history_in_every_tier_unless_forced) {
    TempDir dir;
    Database db(dir.file("k.db"));
    ReadingWriter w(db, {.retain_ms = kHour,
                         .retain_minutes_ms = kHour,
                         .retain_hours_ms = kHour,
                         .retain_every_ms = 1000});
    for (int i = 0; i < 120; ++i)
        w.add(reading("d1", "light", i * kMin, i, i), 0);
    w.commit();
    const RetainStep step = w.retain(100 * kHour);
    BOOST_TEST(step.kept == 120u);
    BOOST_TEST(!step.more);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM rollup_minute") == 120);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM rollup_hour") == 2);
}

// Before a pass deletes most of the history, the step that starts it says what share goes.
BOOST_AUTO_TEST_CASE(retention_estimates_the_share_it_is_about_to_delete) {
    TempDir dir;
    Database db(dir.file("s.db"));
    ReadingWriter w(db, {.retain_ms = kHour, .retain_batch = 5000, .retain_every_ms = 1000});
    // Ten hours of one series; now = 10 h: 9 of 10 hours are old (~90 %).
    for (int i = 0; i < 600; ++i)
        w.add(reading("d1", "light", i * kMin, i, i), 0);
    w.commit();
    const RetainStep step = w.retain(10 * kHour);
    BOOST_TEST(step.share_known);
    BOOST_TEST(step.share > 0.85);
    BOOST_TEST(step.share < 0.95);
    BOOST_TEST(step.deleted == 540u);
}

// The disk budget: over 90 % of it, a step deletes the oldest raw rows first (the series with the
// oldest reading), rollups untouched, and inserts go on.
BOOST_AUTO_TEST_CASE(disk_budget_deletes_the_oldest_raw_rows_first_and_never_fails_an_insert) {
    TempDir dir;
    Database db(dir.file("budget.db"));
    const std::int64_t start = 1700000000000;
    // A budget far below what a day of two series takes: every step trims.
    ReadingWriter w(db, {.max_db_bytes = 100000, .retain_batch = 500, .retain_every_ms = 1000});
    for (int i = 0; i < 17280; ++i) { // a day at 5 s
        w.add(reading("old", "temperature", start + i * 5000LL, 20 + i % 7, i), 0);
        w.add(reading("new", "temperature", start + 3600000 + i * 5000LL, 20 + i % 5, i), 0);
        if (w.due(0))
            w.commit();
    }
    w.commit();
    const std::int64_t minute_rows = scalar(db, "SELECT count(*) FROM rollup_minute");
    RetainStep step = w.retain(start);
    BOOST_TEST(step.budget_deleted > 0u);
    BOOST_TEST(step.used_bytes > 90000);
    // The first hour is only "old": it goes first.
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings r JOIN series s ON s.id = r.series_id "
                          "JOIN devices d ON d.id = s.device_id WHERE d.name = 'new'") == 17280);
    BOOST_TEST(scalar(db, "SELECT min(ts) FROM readings") > start);
    // 300 more steps, an insert before each: never refused, while the trims go on.
    int steps = 0;
    for (; steps < 300; ++steps) {
        w.add(reading("new", "temperature", start + 3600000 + (17280 + steps) * 5000LL, 1,
                      17280 + steps),
              0);
        w.commit();
        step = w.retain(start + steps * 1000);
    }
    // Over budget with the rollups alone (2 days of minute rows): every raw row but the newest
    // is gone, and a trim step is still asked for.
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") <= 1);
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'budget_deleted_readings'") > 0);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM rollup_minute") >= minute_rows); // untouched
    BOOST_TEST(w.counters().stored == 2u * 17280u + static_cast<unsigned>(steps));
}

// A new file vacuums incrementally: after retention deletes most rows, the file shrinks.
BOOST_AUTO_TEST_CASE(a_new_file_shrinks_after_retention) {
    TempDir dir;
    const auto path = dir.file("v.db");
    Database db(path);
    BOOST_TEST(scalar(db, "PRAGMA auto_vacuum") == 2); // INCREMENTAL
    ReadingWriter w(db, {.retain_ms = kHour, .retain_force = true});
    for (int i = 0; i < 20000; ++i)
        w.add(reading("d1", "temperature", i * 1000LL, 20 + i % 11 / 3.0, i), 0);
    w.commit();
    const std::int64_t before = scalar(db, "PRAGMA page_count");
    RetainStep step;
    int steps = 0;
    std::uint64_t vacuumed = 0;
    do {
        step = w.retain(20000 * 1000LL + kHour);
        vacuumed += step.vacuumed_pages;
    } while (step.more && ++steps < 1000);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 0);
    BOOST_TEST(vacuumed > 0u);
    BOOST_TEST(scalar(db, "PRAGMA page_count") < before / 2);
}

BOOST_AUTO_TEST_CASE(the_read_tier_is_the_coarsest_that_gives_the_points) {
    // The downsampler's bucket, span / (points / 2): >= 1 h: hours; >= 1 min: minutes; else raw.
    BOOST_TEST(iots::store::read_tier(500 * kHour, 1000) == 1);
    BOOST_TEST(iots::store::read_tier(500 * kHour - 1, 1000) == 0);
    BOOST_TEST(iots::store::read_tier(500 * kMin, 1000) == 0);
    BOOST_TEST(iots::store::read_tier(500 * kMin - 1, 1000) == -1);
    BOOST_TEST(iots::store::read_tier(24 * kHour, 1000) == 0);      // a day: 172.8 s a bucket
    BOOST_TEST(iots::store::read_tier(30 * 24 * kHour, 1000) == 1); // a month: 86.4 min
}

// The answer of each tier, from its own table, in the same shape: the count of readings, points
// of min and max per bucket, downsampled.
BOOST_AUTO_TEST_CASE(queries_read_the_tier_and_answer_in_the_same_shape) {
    TempDir dir;
    const auto path = dir.file("q.db");
    {
        Database db(path);
        ReadingWriter w(db);
        // Two days at 10 s, a sawtooth 0..59 per 10 minutes.
        for (int i = 0; i < 2 * 8640; ++i)
            w.add(reading("d1", "temperature", i * 10000LL, i % 60, i), 0);
        w.commit();
        // The raw rows of the first day gone: the minute tier answers for it.
        db.exec("DELETE FROM readings WHERE ts < 86400000");
    }
    Queries q(path);
    // An hour at 1000 points: raw (7.2 s a bucket); 360 readings.
    auto raw = q.readings("d1", "temperature", 30 * kHour, 31 * kHour, 1000);
    BOOST_REQUIRE(raw);
    BOOST_TEST(raw->tier == "raw");
    BOOST_TEST(raw->raw_count == 360);
    BOOST_TEST(!raw->downsampled);
    BOOST_TEST(raw->points.size() == 360u);
    // Two days at 1000 points: the minute tier (345.6 s a bucket); every reading counted, the
    // envelope 0..59 kept.
    auto minutes = q.readings("d1", "temperature", 0, 48 * kHour, 1000);
    BOOST_REQUIRE(minutes);
    BOOST_TEST(minutes->tier == "minute");
    BOOST_TEST(minutes->raw_count == 2 * 8640);
    BOOST_TEST(minutes->downsampled);
    BOOST_TEST(minutes->points.size() <= 1000u);
    double lo = 1e9, hi = -1e9;
    for (const auto& p : minutes->points) {
        lo = std::min(lo, p.value);
        hi = std::max(hi, p.value);
        BOOST_TEST(p.ts >= 0);
        BOOST_TEST(p.ts < 48 * kHour);
    }
    BOOST_TEST(lo == 0);
    BOOST_TEST(hi == 59);
    // Two days at 40 points: the hour tier (2.4 h a bucket).
    auto hours = q.readings("d1", "temperature", 0, 48 * kHour, 40);
    BOOST_REQUIRE(hours);
    BOOST_TEST(hours->tier == "hour");
    BOOST_TEST(hours->raw_count == 2 * 8640);
    BOOST_TEST(hours->points.size() <= 40u);
    // A short range of the first day, whose raw rows are gone: the minute tier answers.
    auto gone = q.readings("d1", "temperature", 2 * kHour, 3 * kHour, 1000);
    BOOST_REQUIRE(gone);
    BOOST_TEST(gone->tier == "minute");
    BOOST_TEST(gone->raw_count == 360);
    // An empty range: raw, nothing.
    auto none = q.readings("d1", "temperature", 100 * kHour, 101 * kHour, 1000);
    BOOST_REQUIRE(none);
    BOOST_TEST(none->raw_count == 0);
    BOOST_TEST(none->points.empty());
}
