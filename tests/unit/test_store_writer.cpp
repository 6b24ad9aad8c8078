// The batching reading writer and the database it writes: migrations, batching by count and time,
// duplicates, running counts, retention, file mode, and reading back field by field.
#define BOOST_TEST_MODULE store_writer
#include "iotshield/core/error.hpp"
#include "iotshield/store/database.hpp"
#include "iotshield/store/reading_writer.hpp"
#include "iotshield/store/schema.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using iots::record::Reading;
using iots::store::AddResult;
using iots::store::Database;
using iots::store::ReadingWriter;
using iots::store::RetainStep;
using iots::store::WriterOptions;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "iots-store-XXXXXX").string();
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

// A second connection, as iots-serve would have: sees only committed rows.
std::int64_t committed_rows(const std::string& path) {
    Database reader(path, {.read_only = true, .create = false});
    return scalar(reader, "SELECT count(*) FROM readings");
}

} // namespace

BOOST_AUTO_TEST_CASE(creates_schema_and_reopens_idempotently) {
    TempDir dir;
    const auto path = dir.file("a.db");
    {
        Database db(path);
        BOOST_TEST(db.schema_version() == iots::store::latest_schema_version());
        for (const char* table : {"devices", "sensors", "series", "readings", "anomalies", "alerts",
                                  "commands", "stats"})
            BOOST_TEST(scalar(db, std::string("SELECT count(*) FROM sqlite_schema WHERE name = '") +
                                      table + "'") == 1);
        ReadingWriter w(db);
        w.add(reading("d1", "temperature", 1000, 20.5, 1), 0);
        w.commit();
    }
    Database again(path); // no migration runs twice, the data stays
    BOOST_TEST(again.schema_version() == iots::store::latest_schema_version());
    BOOST_TEST(scalar(again, "SELECT count(*) FROM readings") == 1);
    auto mode = again.prepare("PRAGMA journal_mode");
    BOOST_REQUIRE(mode.step());
    BOOST_TEST(mode.column_text(0) == "wal");
}

BOOST_AUTO_TEST_CASE(database_file_is_owner_only) {
    TempDir dir;
    const auto path = dir.file("private.db");
    const mode_t old = ::umask(0022); // the usual umask would give 0644
    { Database db(path); }
    ::umask(old);
    struct stat st {};
    BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
}

BOOST_AUTO_TEST_CASE(missing_directory_is_no_input) {
    TempDir dir;
    try {
        Database db(dir.file("no/such/dir/x.db"));
        BOOST_FAIL("opened a database in a missing directory");
    } catch (const iots::Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == 66);
        BOOST_TEST(std::string(e.what()).find("no/such/dir/x.db") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(batches_by_count) {
    TempDir dir;
    const auto path = dir.file("b.db");
    Database db(path);
    ReadingWriter w(db, {.batch_size = 3, .batch_ms = 1000000});
    BOOST_TEST(!w.due(0));
    BOOST_TEST(!w.deadline().has_value());
    w.add(reading("d1", "gas", 1000, 400, 1), 0);
    w.add(reading("d1", "gas", 2000, 401, 2), 0);
    BOOST_TEST(w.pending() == 2u);
    BOOST_TEST(!w.due(0));
    BOOST_TEST(committed_rows(path) == 0); // nothing visible before the commit
    w.add(reading("d1", "gas", 3000, 402, 3), 0);
    BOOST_TEST(w.due(0)); // 3 pending = batch_size
    w.commit();
    BOOST_TEST(w.pending() == 0u);
    BOOST_TEST(committed_rows(path) == 3);
    BOOST_TEST(w.counters().stored == 3u);
    BOOST_TEST(w.counters().commits == 1u);
}

BOOST_AUTO_TEST_CASE(batches_by_time) {
    TempDir dir;
    Database db(dir.file("t.db"));
    ReadingWriter w(db, {.batch_size = 10000, .batch_ms = 100});
    w.add(reading("d1", "light", 1000, 300, 1), 5000); // the batch opens at 5000 ms
    w.add(reading("d1", "light", 2000, 310, 2), 5060);
    BOOST_TEST(w.deadline().value() == 5100); // 5000 + 100
    BOOST_TEST(!w.due(5099));
    BOOST_TEST(w.due(5100));
    w.commit();
    BOOST_TEST(!w.due(10000));
    w.add(reading("d1", "light", 3000, 320, 3), 7000); // a new batch, a new deadline
    BOOST_TEST(w.deadline().value() == 7100);
    w.commit();
    BOOST_TEST(w.counters().commits == 2u);
}

BOOST_AUTO_TEST_CASE(redelivered_readings_are_duplicates_with_or_without_seq) {
    TempDir dir;
    Database db(dir.file("d.db"));
    ReadingWriter w(db);
    BOOST_TEST((w.add(reading("d1", "humidity", 1000, 50, 7), 0) == AddResult::stored));
    BOOST_TEST((w.add(reading("d1", "humidity", 1000, 50, 7), 0) == AddResult::duplicate));
    w.commit();
    // In a later batch too, as after a restart with a persistent session.
    BOOST_TEST((w.add(reading("d1", "humidity", 1000, 50, 7), 0) == AddResult::duplicate));
    // Same seq at another time is a new reading (the device restarted its counter).
    BOOST_TEST((w.add(reading("d1", "humidity", 5000, 51, 7), 0) == AddResult::stored));
    // Without seq a reading is (series, ts, value): the same ts and value twice is one reading.
    BOOST_TEST((w.add(reading("d1", "humidity", 9000, 52), 0) == AddResult::stored));
    BOOST_TEST((w.add(reading("d1", "humidity", 9000, 52), 0) == AddResult::duplicate));
    w.commit();
    BOOST_TEST(w.counters().stored == 3u);
    BOOST_TEST(w.counters().duplicates == 3u);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 3);
    BOOST_TEST(scalar(db, "SELECT count FROM series") == 3);
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'total_readings'") == 3);
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'duplicate_readings'") == 3);
}

BOOST_AUTO_TEST_CASE(a_seqless_reading_is_identified_by_series_ts_and_value) {
    TempDir dir;
    Database db(dir.file("sv.db"));
    ReadingWriter w(db);
    // In order, so each is past its series' greatest key; then the same again in the batch.
    BOOST_TEST((w.add(reading("d1", "temperature", 1000, 20.5), 0) == AddResult::stored));
    BOOST_TEST((w.add(reading("d1", "temperature", 1000, 20.5), 0) == AddResult::duplicate));
    // Another value at the same ms is another reading.
    BOOST_TEST((w.add(reading("d1", "temperature", 1000, 20.75), 0) == AddResult::stored));
    BOOST_TEST((w.add(reading("d1", "temperature", 2000, 20.5), 0) == AddResult::stored));
    BOOST_TEST((w.add(reading("d1", "temperature", 1000, 20.75), 0) == AddResult::duplicate));
    w.commit();
    // Re-delivered after the commit (QoS 1 after a reconnect, a file ingested twice).
    BOOST_TEST((w.add(reading("d1", "temperature", 1000, 20.5), 0) == AddResult::duplicate));
    BOOST_TEST((w.add(reading("d1", "temperature", 1000, 20.75), 0) == AddResult::duplicate));
    BOOST_TEST((w.add(reading("d1", "temperature", 2000, 20.5), 0) == AddResult::duplicate));
    // A reading with seq is another identity, even at the same ts and value; the seqless one
    // stays a duplicate beside it.
    BOOST_TEST((w.add(reading("d1", "temperature", 1000, 20.5, 3), 0) == AddResult::stored));
    BOOST_TEST((w.add(reading("d1", "temperature", 1000, 20.5), 0) == AddResult::duplicate));
    // The same ts and value in another series is another reading.
    BOOST_TEST((w.add(reading("d2", "temperature", 1000, 20.5), 0) == AddResult::stored));
    BOOST_TEST((w.add(reading("d1", "humidity", 1000, 20.5), 0) == AddResult::stored));
    w.commit();
    BOOST_TEST(w.counters().stored == 6u);
    BOOST_TEST(w.counters().duplicates == 6u);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 6);
    BOOST_TEST(scalar(db, "SELECT sum(count) FROM series") == 6);
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'duplicate_readings'") == 6);
    // The keys: a seqless reading is stored at seq -1, -2, ... in its (series, ts).
    BOOST_TEST(scalar(db, "SELECT seq FROM readings r JOIN series s ON s.id = r.series_id "
                          "JOIN devices d ON d.id = s.device_id WHERE d.name = 'd1' AND "
                          "r.ts = 1000 AND r.value = 20.75") == -2);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings WHERE ts = 1000 AND seq = -1") == 3);
}

BOOST_AUTO_TEST_CASE(seqless_runs_replayed_are_all_duplicates_whatever_the_batching) {
    TempDir dir;
    Database db(dir.file("sr.db"));
    ReadingWriter w(db, {.batch_size = 1000000, .batch_ms = 1000000});
    // 3 series, 200 ms each, two values at every 5th ms: runs longer than the multi-row size,
    // and identical readings inside one batch, some of them still buffered.
    auto all = [](int i) {
        std::string device = "d";
        device += std::to_string(i % 3);
        return reading(device, "gas", 1000 * (i / 3), 400 + i % 7);
    };
    int expected = 0;
    for (int i = 0; i < 600; ++i) {
        BOOST_TEST((w.add(all(i), 0) == AddResult::stored));
        ++expected;
        if ((i / 3) % 5 == 0) {
            auto second = all(i);
            second.value += 0.5;
            BOOST_TEST((w.add(second, 0) == AddResult::stored));
            BOOST_TEST((w.add(all(i), 0) == AddResult::duplicate));
            ++expected;
        }
    }
    w.commit();
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == expected);
    BOOST_TEST(scalar(db, "SELECT min(seq) FROM readings") == -2);
    for (int i = 0; i < 600; ++i)
        BOOST_TEST((w.add(all(i), 0) == AddResult::duplicate));
    w.commit();
    BOOST_TEST(w.counters().stored == static_cast<std::uint64_t>(expected));
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == expected);
    BOOST_TEST(scalar(db, "SELECT sum(count) FROM series") == expected);
}

BOOST_AUTO_TEST_CASE(a_seqless_reading_another_writer_stored_meanwhile_is_a_duplicate) {
    TempDir dir;
    const auto path = dir.file("two-seqless.db");
    Database a(path), b(path);
    ReadingWriter wa(a), wb(b);
    wa.add(reading("d1", "gas", 1000, 400), 0);
    wa.commit(); // wa knows the greatest key of d1/gas: (1000, -1)
    wb.add(reading("d1", "gas", 2000, 401), 0);
    wb.commit();
    BOOST_TEST((wa.add(reading("d1", "gas", 2000, 401), 0) == AddResult::duplicate));
    BOOST_TEST((wa.add(reading("d1", "gas", 3000, 402), 0) == AddResult::stored));
    wa.commit();
    BOOST_TEST(scalar(a, "SELECT count(*) FROM readings") == 3);
    BOOST_TEST(scalar(a, "SELECT count FROM series") == 3);
}

BOOST_AUTO_TEST_CASE(seqless_readings_get_distinct_negative_seqs_across_batches) {
    TempDir dir;
    Database db(dir.file("n.db"));
    ReadingWriter w(db);
    // Same series and ms: one with seq 0, three without, over two batches. The primary key is
    // (series_id, ts, seq), so each seqless one takes the next free negative seq: -1, -2, -3.
    BOOST_TEST((w.add(reading("d1", "gas", 4000, 400, 0), 0) == AddResult::stored));
    BOOST_TEST((w.add(reading("d1", "gas", 4000, 401), 0) == AddResult::stored));
    BOOST_TEST((w.add(reading("d1", "gas", 4000, 402), 0) == AddResult::stored));
    w.commit();
    BOOST_TEST((w.add(reading("d1", "gas", 4000, 403), 0) == AddResult::stored));
    // Another ms starts again at -1; seq 0 re-delivered is still a duplicate.
    BOOST_TEST((w.add(reading("d1", "gas", 4001, 404), 0) == AddResult::stored));
    BOOST_TEST((w.add(reading("d1", "gas", 4000, 400, 0), 0) == AddResult::duplicate));
    w.commit();
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 5);
    // value 400 + k was stored with seq -k (k = 0 is the real seq 0).
    for (int k = 0; k <= 3; ++k)
        BOOST_TEST(scalar(db, "SELECT seq FROM readings WHERE ts = 4000 AND value = " +
                                  std::to_string(400 + k)) == -k);
    BOOST_TEST(scalar(db, "SELECT seq FROM readings WHERE ts = 4001") == -1);
    BOOST_TEST(scalar(db, "SELECT count FROM series") == 5);
}

BOOST_AUTO_TEST_CASE(running_counts_follow_the_data) {
    TempDir dir;
    const auto path = dir.file("c.db");
    {
        Database db(path);
        ReadingWriter w(db);
        auto r = reading("kitchen-1", "temperature", 5000, 21.0, 1);
        r.location = "kitchen";
        r.unit = "C";
        w.add(r, 0);
        w.add(reading("kitchen-1", "temperature", 3000, 20.0, 2), 0); // late: not the last value
        w.add(reading("kitchen-1", "temperature", 8000, 22.5, 3), 0);
        w.add(reading("kitchen-1", "gas", 7000, 410, 1), 0);
        w.add(reading("hall", "motion", 4000, 1, 1), 0);
        w.commit();
        w.add(reading("kitchen-1", "temperature", 1000, 19.0, 4), 0); // older than all: first_ts
        w.set_status("hall", "offline", 9999, 0);
        w.commit();
    }
    Database db(path); // as a reader opening it afterwards
    auto st = db.prepare("SELECT count, first_ts, last_ts, last_value FROM series s JOIN devices d "
                         "ON d.id = s.device_id JOIN sensors n ON n.id = s.sensor_id "
                         "WHERE d.name = 'kitchen-1' AND n.name = 'temperature'");
    BOOST_REQUIRE(st.step());
    BOOST_TEST(st.column_int(0) == 4);
    BOOST_TEST(st.column_int(1) == 1000);
    BOOST_TEST(st.column_int(2) == 8000);
    BOOST_TEST(st.column_double(3) == 22.5);
    auto dev = db.prepare("SELECT last_seen, location, first_seen FROM devices WHERE name = "
                          "'kitchen-1'");
    BOOST_REQUIRE(dev.step());
    BOOST_TEST(dev.column_int(0) == 8000);
    BOOST_TEST(dev.column_text(1) == "kitchen");
    BOOST_TEST(dev.column_int(2) == 5000);
    auto hall = db.prepare("SELECT status, status_ts, last_seen FROM devices WHERE name = 'hall'");
    BOOST_REQUIRE(hall.step());
    BOOST_TEST(hall.column_text(0) == "offline");
    BOOST_TEST(hall.column_int(1) == 9999);
    BOOST_TEST(hall.column_int(2) == 4000);
    BOOST_TEST(scalar(db, "SELECT unit = 'C' FROM sensors WHERE name = 'temperature'") == 1);
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'total_readings'") == 6);
    BOOST_TEST(scalar(db, "SELECT sum(count) FROM series") == 6);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM series") == 3);
}

BOOST_AUTO_TEST_CASE(a_second_writer_reuses_ids_and_adds_to_the_counts) {
    TempDir dir;
    const auto path = dir.file("two.db");
    Database a(path), b(path);
    ReadingWriter wa(a), wb(b);
    wa.add(reading("d1", "gas", 1000, 400, 1), 0);
    wa.commit();
    wb.add(reading("d1", "gas", 2000, 402, 2), 0);
    wb.add(reading("d1", "gas", 1000, 400, 1), 0); // stored by the other writer already
    wb.commit();
    BOOST_TEST(wb.counters().duplicates == 1u);
    BOOST_TEST(scalar(a, "SELECT count(*) FROM series") == 1);
    BOOST_TEST(scalar(a, "SELECT count FROM series") == 2);
    BOOST_TEST(scalar(a, "SELECT last_value FROM series") == 402);
}

BOOST_AUTO_TEST_CASE(reads_back_equal_field_by_field) {
    TempDir dir;
    Database db(dir.file("f.db"));
    ReadingWriter w(db);
    auto r = reading("esp32-livingroom", "temperature", 1761410712123, 25.31, 1042);
    r.unit = "C";
    r.label = "fire";
    r.score = 0.75;
    r.anomaly = true;
    r.extra = R"("rssi":-61,"fw":{"v":"1.2"})";
    w.add(r, 0);
    auto plain = reading("esp32-livingroom", "co2", -5, -1e-300);
    w.add(plain, 0);
    w.commit();
    auto st =
        db.prepare("SELECT d.name, n.name, ts, value, seq, score, anomaly, label, extra "
                   "FROM readings r JOIN series s ON s.id = r.series_id JOIN devices d ON "
                   "d.id = s.device_id JOIN sensors n ON n.id = s.sensor_id ORDER BY r.series_id");
    BOOST_REQUIRE(st.step());
    BOOST_TEST(st.column_text(0) == r.device);
    BOOST_TEST(st.column_text(1) == r.sensor);
    BOOST_TEST(st.column_int(2) == r.ts);
    BOOST_TEST(st.column_double(3) == r.value); // exact: REAL keeps the double's bits
    BOOST_TEST(st.column_int(4) == 1042);
    BOOST_TEST(st.column_double(5) == 0.75);
    BOOST_TEST(st.column_int(6) == 1);
    BOOST_TEST(st.column_text(7) == "fire");
    BOOST_TEST(st.column_text(8) == r.extra);
    BOOST_REQUIRE(st.step());
    BOOST_TEST(st.column_text(1) == "co2");
    BOOST_TEST(st.column_int(2) == -5);
    BOOST_TEST(st.column_double(3) == -1e-300);
    BOOST_TEST(st.column_int(4) == -1); // no seq: the first sentinel at this series and ms
    for (int col = 5; col <= 8; ++col)
        BOOST_TEST(st.is_null(col), "column " << col << " is NULL");
    BOOST_TEST(!st.step());
    BOOST_TEST(scalar(db, "SELECT anomalies FROM series WHERE id = 1") == 1);
}

BOOST_AUTO_TEST_CASE(retention_deletes_in_small_batches_and_keeps_counts) {
    TempDir dir;
    Database db(dir.file("r.db"));
    // Rows 0..9 s old... in wall-clock ms: now = 100000, keep 30000 ms, so ts < 70000 goes.
    ReadingWriter w(db, {.retain_ms = 30000, .retain_batch = 3, .retain_every_ms = 1000});
    for (int i = 0; i < 10; ++i) { // ts 10000, 20000, ..., 100000
        auto r = reading("d1", "temperature", (i + 1) * 10000, 20 + i, i);
        r.anomaly = i % 2 == 0; // anomalies at ts 10000, 30000, 50000, 70000, 90000
        w.add(r, 0);
        w.add(reading("d2", "gas", (i + 1) * 10000, 400 + i), 0); // no seq
    }
    w.commit();
    int steps = 0;
    while (w.retain(100000).more)
        ++steps;
    // Old: ts 10000..60000, 6 rows per series; 3 a transaction: 2 steps each, 4 in all.
    BOOST_TEST(steps == 4);
    BOOST_TEST(w.counters().deleted == 12u);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 8);
    BOOST_TEST(scalar(db, "SELECT min(ts) FROM readings") == 70000);
    BOOST_TEST(scalar(db, "SELECT sum(count) FROM series") == 8);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM series WHERE first_ts = 70000") == 2);
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'total_readings'") == 8);
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'deleted_readings'") == 12);
    // d1 keeps anomalies at 70000 and 90000.
    BOOST_TEST(scalar(db, "SELECT anomalies FROM series WHERE count > 0 AND anomalies > 0") == 2);
    // Caught up: the next pass waits retain_every_ms.
    BOOST_TEST(!w.retain(100500).more);
    w.add(reading("d1", "temperature", 75000, 1, 100), 0);
    w.commit();
    BOOST_TEST(!w.retain(100999).more);
    BOOST_TEST(w.retain(110000).more); // cutoff 80000: 70000 and 75000 of d1 go, 70000 of d2
    while (w.retain(110000).more) {
    }
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 6);
    BOOST_TEST(scalar(db, "SELECT sum(count) FROM series") == 6);
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'total_readings'") == 6);
}

// Simulated or replayed history: every stored reading older than the cutoff. Retention keeps it
// and says so (kept, newest), unless forced; once a newer reading is stored, the old ones go.
BOOST_AUTO_TEST_CASE(retention_keeps_history_older_than_the_window) {
    TempDir dir;
    Database db(dir.file("h.db"));
    ReadingWriter w(db, {.retain_ms = 30000, .retain_batch = 5000, .retain_every_ms = 1000});
    for (int i = 0; i < 10; ++i) // ts 10000..100000
        w.add(reading("d1", "temperature", (i + 1) * 10000, 20 + i, i), 0);
    w.commit();
    const RetainStep kept = w.retain(1000000); // cutoff 970000: all 10 are older
    BOOST_TEST(!kept.more);
    BOOST_TEST(kept.cutoff == 970000);
    BOOST_TEST(kept.deleted == 0u);
    BOOST_TEST(kept.kept == 10u);
    BOOST_TEST(kept.newest == 100000);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 10);
    BOOST_TEST(w.counters().deleted == 0u);
    // Checked again at the next pass, not before.
    BOOST_TEST(w.retain(1000500).kept == 0u);
    BOOST_TEST(w.retain(1001000).kept == 10u);
    // A reading of now: the history is old by the clock and by the data, and goes.
    w.add(reading("d2", "gas", 1001500, 400, 1), 0);
    w.commit();
    RetainStep step = w.retain(1002000);
    BOOST_TEST(step.kept == 0u);
    BOOST_TEST(step.deleted == 10u);
    BOOST_TEST(step.cutoff == 972000);
    while (step.more)
        step = w.retain(1002000);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 1);
    BOOST_TEST(scalar(db, "SELECT sum(count) FROM series") == 1);
}

BOOST_AUTO_TEST_CASE(retention_forced_deletes_history_older_than_the_window) {
    TempDir dir;
    Database db(dir.file("f.db"));
    ReadingWriter w(
        db, {.retain_ms = 30000, .retain_batch = 4, .retain_every_ms = 1000, .retain_force = true});
    for (int i = 0; i < 10; ++i)
        w.add(reading("d1", "temperature", (i + 1) * 10000, 20 + i, i), 0);
    w.commit();
    std::uint64_t deleted = 0;
    RetainStep step;
    do {
        step = w.retain(1000000);
        BOOST_TEST(step.kept == 0u);
        deleted += step.deleted;
    } while (step.more);
    BOOST_TEST(deleted == 10u);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 0);
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'total_readings'") == 0);
    // Nothing left to keep or delete.
    step = w.retain(1001000);
    BOOST_TEST((!step.more && step.kept == 0u && step.deleted == 0u));
}

BOOST_AUTO_TEST_CASE(retention_off_does_nothing) {
    TempDir dir;
    Database db(dir.file("n.db"));
    ReadingWriter w(db);
    w.add(reading("d1", "gas", 1, 400, 1), 0);
    w.commit();
    BOOST_TEST(!w.retain(1000000000000).more);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 1);
}

BOOST_AUTO_TEST_CASE(stats_alone_are_committed) {
    TempDir dir;
    Database db(dir.file("s.db"));
    ReadingWriter w(db);
    w.add_stat("rejected_readings", 2);
    w.add_stat("rejected_readings", 1);
    w.commit();
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'rejected_readings'") == 3);
}

BOOST_AUTO_TEST_CASE(uncommitted_batch_is_rolled_back_by_the_destructor) {
    TempDir dir;
    const auto path = dir.file("u.db");
    Database db(path);
    {
        ReadingWriter w(db);
        w.add(reading("d1", "gas", 1, 400, 1), 0);
    }
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 0);
    ReadingWriter again(db); // the connection is usable again: no transaction left open
    again.add(reading("d1", "gas", 1, 400, 1), 0);
    again.commit();
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 1);
}

// ---- The multi-row path: readings past their series' greatest key are inserted 64 at a time ----

namespace {
// (ts, value, seq) of every row of a series, in key order, as one string: easy to compare whole.
std::string rows_of(Database& db, const std::string& device, const std::string& sensor) {
    auto st = db.prepare("SELECT ts, value, seq FROM readings r JOIN series s ON s.id = "
                         "r.series_id JOIN devices d ON d.id = s.device_id JOIN sensors n ON "
                         "n.id = s.sensor_id WHERE d.name = ?1 AND n.name = ?2 ORDER BY ts, seq");
    st.bind(1, std::string_view(device)).bind(2, std::string_view(sensor));
    std::string out;
    while (st.step())
        out += std::to_string(st.column_int(0)) + "/" + std::to_string(st.column_double(1)) + "/" +
               std::to_string(st.column_int(2)) + " ";
    return out;
}
} // namespace

BOOST_AUTO_TEST_CASE(runs_of_every_length_around_the_multi_row_size_are_stored_whole) {
    TempDir dir;
    Database db(dir.file("m.db"));
    ReadingWriter w(db, {.batch_size = 1000000, .batch_ms = 1000000});
    std::int64_t total = 0;
    // 1, 63, 64, 65, 127, 128, 129 readings per batch: split as 64, 32, ... 1 row statements.
    for (const int n : {1, 63, 64, 65, 127, 128, 129}) {
        for (int i = 0; i < n; ++i) {
            std::string device = "d";
            device += std::to_string(i % 3);
            auto r = reading(device, "gas", 1000 * (total + i), i, total + i);
            r.label = i % 2 == 0 ? "normal" : "";
            r.score = i % 5 == 0 ? std::optional<double>(0.25) : std::nullopt;
            r.anomaly = i % 7 == 0 ? std::optional<bool>(i % 14 == 0) : std::nullopt;
            r.extra = i % 4 == 0 ? R"("rssi":-61)" : "";
            BOOST_TEST((w.add(r, 0) == AddResult::stored));
        }
        BOOST_TEST(w.pending() == static_cast<std::size_t>(n));
        BOOST_TEST(committed_rows(dir.file("m.db")) == total); // nothing visible before commit
        w.commit();
        total += n;
        BOOST_TEST(committed_rows(dir.file("m.db")) == total);
    }
    BOOST_TEST(w.counters().stored == static_cast<std::uint64_t>(total));
    BOOST_TEST(scalar(db, "SELECT sum(count) FROM series") == total);
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'total_readings'") == total);
    // Every field of every row, as the single-row path would have written it.
    for (std::int64_t k = 0; k < total; k += 37) {
        auto st = db.prepare("SELECT seq, ts, label, score, anomaly, extra FROM readings WHERE "
                             "seq = ?1");
        st.bind(1, k);
        BOOST_REQUIRE(st.step());
        BOOST_TEST(st.column_int(1) == 1000 * k);
    }
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings WHERE label = 'normal'") > 0);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings WHERE label IS NULL") > 0);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings WHERE extra = '\"rssi\":-61'") > 0);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings WHERE score = 0.25") > 0);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings WHERE anomaly = 1") > 0);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings WHERE anomaly = 0") > 0);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings WHERE score IS NULL AND anomaly IS NULL "
                          "AND extra IS NULL") > 0);
}

// A batch's new readings are inserted in key order (series, ts, seq), not as they came: nodes
// interleaved, a batch past the writer's buffer (16,384 readings), seqless ones and a late or
// re-delivered reading in between (which inserts what is buffered first) give the same rows, counts
// and rollups as the same readings committed 50 at a time.
namespace {
std::string dump(Database& db, const std::string& table, const std::string& columns,
                 const std::string& order) {
    std::string row = "''";
    std::string rest = columns + ",";
    for (std::size_t at = 0; (at = rest.find(',')) != std::string::npos; rest.erase(0, at + 1))
        row += " || quote(" + rest.substr(0, at) + ") || '|'";
    auto st = db.prepare("SELECT " + row + " FROM " + table + " ORDER BY " + order);
    std::string out;
    while (st.step())
        out += st.column_text(0) + "\n";
    return out;
}
} // namespace

BOOST_AUTO_TEST_CASE(a_batch_sorted_by_key_stores_what_small_batches_store) {
    TempDir dir;
    std::vector<Reading> in;
    for (int i = 0; i < 70000; ++i) {
        const int step = i / 7;
        auto r = reading("node" + std::to_string(i % 7 % 3),
                         i % 7 < 3 ? "gas" : "temp" + std::to_string(i % 7),
                         1760000000000 + 5000LL * step, 20 + (i % 97) * 0.25,
                         i % 7 == 6 ? std::nullopt : std::optional<std::int64_t>(step));
        r.label = i % 11 == 0 ? "fire" : "normal";
        if (i % 13 == 0)
            r.score = 0.5;
        if (i % 17 == 0)
            r.anomaly = i % 34 == 0;
        in.push_back(r);
        if (i % 9001 == 0 && i > 0) {
            in.push_back(in[in.size() - 50]); // re-delivered
            Reading late = in[in.size() - 30];
            late.ts -= 2; // late: before its series' newest
            late.seq = late.seq ? std::optional<std::int64_t>(*late.seq + 100000) : std::nullopt;
            in.push_back(late);
        }
    }
    const auto store = [&](const std::string& name, std::size_t per_commit) {
        Database db(dir.file(name.c_str()));
        ReadingWriter w(db, {.batch_size = 1000000, .batch_ms = 1000000});
        for (std::size_t i = 0; i < in.size(); ++i) {
            (void)w.add(in[i], 0);
            if ((i + 1) % per_commit == 0)
                w.commit();
        }
        w.commit();
        return dump(db, "readings", "series_id,ts,seq,value,score,anomaly,label,extra",
                    "series_id, ts, seq") +
               dump(db, "series", "id,count,anomalies,first_ts,last_ts,last_value", "id") +
               dump(db, "rollup_minute", "series_id,bucket,count,min,max,sum,anomalies",
                    "series_id, bucket") +
               dump(db, "rollup_hour",
                    "series_id,bucket,count,min,max,sum,sumsq,first,last,first_ms,last_ms,"
                    "anomalies",
                    "series_id, bucket") +
               dump(db, "anomalies", "series_id,ts,value,score", "series_id, ts, value");
    };
    const std::string whole = store("whole.db", in.size());
    const std::string small = store("small.db", 50);
    BOOST_TEST(whole.size() > 70000U * 20);
    BOOST_TEST(whole == small);
}

// Plain rows (no score, anomaly or extra) bind a label only where it differs from the one bound
// at that row of the statement before: labels that stay, change, go missing or come back between
// batches, and more distinct labels than are interned, are each stored as given.
BOOST_AUTO_TEST_CASE(plain_rows_keep_their_labels_whatever_was_bound_before) {
    TempDir dir;
    Database db(dir.file("l.db"));
    ReadingWriter w(db, {.batch_size = 1000000, .batch_ms = 1000000});
    const auto label = [](int batch, int i) -> std::string {
        if (batch == 3)
            return "l" + std::to_string(i % 40); // 40 distinct ones
        switch ((i + batch * (i % 3)) % 4) {
        case 0:
            return "normal";
        case 1:
            return batch % 2 == 0 ? "" : "fire";
        case 2:
            return "gas-leak";
        default:
            return batch == 1 ? "normal" : "";
        }
    };
    std::int64_t seq = 0;
    const int sizes[] = {64, 64, 128, 64, 3, 64, 200};
    for (int batch = 0; batch < 7; ++batch) {
        for (int i = 0; i < sizes[batch]; ++i, ++seq) {
            auto r = reading("d" + std::to_string(i % 3), "gas", 1000 * seq, i, seq);
            r.label = label(batch, i);
            BOOST_TEST((w.add(r, 0) == AddResult::stored));
        }
        w.commit();
    }
    auto st = db.prepare("SELECT seq, coalesce(label, '') FROM readings ORDER BY seq");
    std::int64_t k = 0;
    for (int batch = 0; batch < 7; ++batch)
        for (int i = 0; i < sizes[batch]; ++i, ++k) {
            BOOST_REQUIRE(st.step());
            BOOST_TEST(st.column_int(0) == k);
            BOOST_TEST(st.column_text(1) == label(batch, i));
        }
    BOOST_TEST(!st.step());
}

BOOST_AUTO_TEST_CASE(a_duplicate_in_the_middle_of_a_run_is_found_and_not_stored) {
    TempDir dir;
    Database db(dir.file("dm.db"));
    ReadingWriter w(db);
    for (int i = 0; i < 10; ++i)
        w.add(reading("d1", "gas", 1000 * i, 400 + i, i), 0);
    w.commit();
    // 30 new, a re-delivery of a committed one, 30 new, a re-delivery of one still buffered in
    // this batch, 30 new: 90 stored, 2 duplicates, in one batch.
    int added = 0;
    auto fresh = [&](int n) {
        for (int i = 0; i < n; ++i, ++added)
            BOOST_TEST((w.add(reading("d1", "gas", 100000 + 1000 * added, 500 + added, added), 0) ==
                        AddResult::stored));
    };
    fresh(30);
    BOOST_TEST((w.add(reading("d1", "gas", 5000, 405, 5), 0) == AddResult::duplicate));
    fresh(30);
    BOOST_TEST((w.add(reading("d1", "gas", 100000 + 1000 * 40, 0, 40), 0) ==
                AddResult::duplicate)); // same key as the 41st of this batch, another value
    fresh(30);
    w.commit();
    BOOST_TEST(w.counters().stored == 100u);
    BOOST_TEST(w.counters().duplicates == 2u);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 100);
    BOOST_TEST(scalar(db, "SELECT value FROM readings WHERE seq = 40 AND ts = 140000") == 540);
    BOOST_TEST(scalar(db, "SELECT count FROM series") == 100);
    BOOST_TEST(scalar(db, "SELECT value FROM stats WHERE key = 'duplicate_readings'") == 2);
}

BOOST_AUTO_TEST_CASE(late_readings_and_seqless_ones_between_runs_keep_their_order) {
    TempDir dir;
    Database db(dir.file("mix.db"));
    ReadingWriter w(db);
    // Runs of new readings with seqless ones and late ones (before the greatest key, but new)
    // between them, several series interleaved, all at a few shared ms.
    std::int64_t seqless = 0;
    for (int i = 0; i < 200; ++i) {
        const std::int64_t ts = 1000 * (i / 4);
        if (i % 9 == 4) {
            ++seqless;
            BOOST_TEST((w.add(reading("a", "gas", ts, i), 0) == AddResult::stored)); // no seq
        } else if (i % 13 == 6) {
            // Late: an earlier ts with a seq never used there.
            BOOST_TEST(
                (w.add(reading("a", "gas", ts - 500, i, 100000 + i), 0) == AddResult::stored));
        } else {
            BOOST_TEST((w.add(reading("a", "gas", ts, i, i), 0) == AddResult::stored));
            BOOST_TEST((w.add(reading("b", "light", ts, i, i), 0) == AddResult::stored));
        }
    }
    w.commit();
    const auto a_rows = scalar(db, "SELECT count(*) FROM readings r JOIN series s ON s.id = "
                                   "r.series_id JOIN devices d ON d.id = s.device_id "
                                   "WHERE d.name = 'a'");
    BOOST_TEST(a_rows == 200);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == w.counters().stored);
    BOOST_TEST(w.counters().duplicates == 0u);
    // Seqless readings sharing a ms get -1, -2, ...: none collided with another.
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings WHERE seq < 0") == seqless);
    BOOST_TEST(scalar(db, "SELECT min(seq) FROM readings") == -1);
    // Replaying everything now finds every reading a duplicate, with seq or without.
    const std::string before = rows_of(db, "a", "gas");
    for (int i = 0; i < 200; ++i) {
        const std::int64_t ts = 1000 * (i / 4);
        if (i % 9 == 4)
            BOOST_TEST((w.add(reading("a", "gas", ts, i), 0) == AddResult::duplicate));
        else if (i % 13 == 6)
            BOOST_TEST(
                (w.add(reading("a", "gas", ts - 500, i, 100000 + i), 0) == AddResult::duplicate));
        else
            BOOST_TEST((w.add(reading("a", "gas", ts, i, i), 0) == AddResult::duplicate));
    }
    w.commit();
    BOOST_TEST(rows_of(db, "a", "gas") == before);
    BOOST_TEST(scalar(db, "SELECT sum(count) FROM series") == w.counters().stored);
}

BOOST_AUTO_TEST_CASE(a_run_crossing_the_batch_size_is_split_at_the_commit) {
    TempDir dir;
    const auto path = dir.file("bs.db");
    Database db(path);
    ReadingWriter w(db, {.batch_size = 100, .batch_ms = 1000000});
    int commits = 0;
    for (int i = 0; i < 250; ++i) {
        w.add(reading("d1", "motion", i, i % 2, i), 0);
        if (w.due(0)) {
            w.commit();
            ++commits;
            BOOST_TEST(committed_rows(path) == 100 * commits); // whole batches, no row held back
        }
    }
    BOOST_TEST(commits == 2);
    BOOST_TEST(w.pending() == 50u);
    w.commit();
    BOOST_TEST(committed_rows(path) == 250);
    BOOST_TEST(scalar(db, "SELECT count FROM series") == 250);
}

BOOST_AUTO_TEST_CASE(readings_another_writer_stored_meanwhile_are_duplicates) {
    TempDir dir;
    const auto path = dir.file("two.db");
    Database a(path), b(path);
    ReadingWriter wa(a), wb(b);
    for (int i = 0; i < 10; ++i)
        wa.add(reading("d1", "gas", 1000 * i, 400, i), 0);
    wa.commit(); // wa knows the greatest key of d1/gas: (9000, 9)
    for (int i = 10; i < 20; ++i)
        wb.add(reading("d1", "gas", 1000 * i, 400, i), 0);
    wb.commit(); // ... which is no longer true
    // A re-delivery of wb's readings to wa (a shared subscription after a reconnect): past what
    // wa knew, yet duplicates. And new ones after them.
    for (int i = 15; i < 25; ++i)
        wa.add(reading("d1", "gas", 1000 * i, 400, i), 0);
    wa.commit();
    BOOST_TEST(wa.counters().duplicates == 5u);
    BOOST_TEST(wa.counters().stored == 15u);
    BOOST_TEST(scalar(a, "SELECT count(*) FROM readings") == 25);
    BOOST_TEST(scalar(a, "SELECT count FROM series") == 25);
    BOOST_TEST(scalar(a, "SELECT value FROM stats WHERE key = 'duplicate_readings'") == 5);
}

BOOST_AUTO_TEST_CASE(a_full_disk_rolls_the_batch_back_and_the_writer_goes_on) {
    TempDir dir;
    const auto path = dir.file("full.db");
    Database db(path);
    ReadingWriter w(db, {.batch_size = 1000000, .batch_ms = 1000000});
    w.add(reading("d1", "gas", 0, 400, 0), 0);
    w.commit();
    const auto pages = scalar(db, "PRAGMA page_count");
    // A disk that fills up: SQLite reports SQLITE_FULL past max_page_count.
    db.exec("PRAGMA max_page_count = " + std::to_string(pages + 2));
    int code = 0;
    int added = 0;
    try {
        for (int i = 1; i <= 20000; ++i, ++added) // far more than 2 pages
            w.add(reading("d1", "gas", 1000 * i, 400, i), 0);
        w.commit();
    } catch (const iots::Error& e) {
        code = static_cast<int>(e.code());
    }
    BOOST_TEST(code == 74);
    BOOST_TEST(added > 0);
    BOOST_TEST(w.pending() == 0u);
    BOOST_TEST(w.counters().stored == 1u);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 1); // nothing of the failed batch
    BOOST_TEST(scalar(db, "SELECT count FROM series") == 1);
    // Room again: the same readings go in whole, none taken for a duplicate.
    db.exec("PRAGMA max_page_count = 1073741823");
    for (int i = 1; i <= 300; ++i)
        BOOST_TEST((w.add(reading("d1", "gas", 1000 * i, 400, i), 0) == AddResult::stored));
    w.commit();
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 301);
    BOOST_TEST(scalar(db, "SELECT count FROM series") == 301);
}
