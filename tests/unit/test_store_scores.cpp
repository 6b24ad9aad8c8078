// Detection's score write-back with a second process storing the readings on the same file (as
// iots-ingest does beside iots-detect on one broker): scores that come before their reading wait
// and are written when it is committed, seqless readings are found by value, and the waiting is
// bounded in time and in number.
#define BOOST_TEST_MODULE store_scores
#include "iotshield/core/error.hpp"
#include "iotshield/store/database.hpp"
#include "iotshield/store/reading_writer.hpp"
#include "iotshield/store/schema.hpp"
#include "iotshield/store/scores.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

namespace fs = std::filesystem;
using iots::core::Millis;
using iots::record::Reading;
using iots::store::Database;
using iots::store::ReadingWriter;
using iots::store::ScoreOptions;
using iots::store::ScoreWriter;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "iots-scores-XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    [[nodiscard]] std::string file(const char* name) const { return (path / name).string(); }
};

Reading reading(Millis ts, double value, std::optional<std::int64_t> seq) {
    Reading r;
    r.device = "node";
    r.sensor = "temperature";
    r.ts = ts;
    r.value = value;
    r.seq = seq;
    return r;
}

Reading scored(Reading r, double score, bool anomaly) {
    r.score = score;
    r.anomaly = anomaly;
    if (anomaly)
        r.reasons = {"threshold:heat"};
    return r;
}

// The other process: stores the readings and commits them.
void ingest(const std::string& path, std::initializer_list<Reading> readings) {
    Database db(path);
    ReadingWriter writer(db);
    for (const auto& r : readings)
        writer.add(r, 0);
    writer.commit();
}

std::int64_t scalar(const std::string& path, const std::string& sql) {
    Database db(path, {.read_only = true, .create = false});
    auto st = db.prepare(sql);
    BOOST_REQUIRE(st.step());
    return st.is_null(0) ? -1 : st.column_int(0);
}

// score * 1000 and anomaly of the stored reading at ts (and value), -1 for NULL.
std::pair<std::int64_t, std::int64_t> stored(const std::string& path, Millis ts, double value = 0) {
    const std::string where =
        " FROM readings WHERE ts = " + std::to_string(ts) +
        (value != 0 ? " AND value = " + std::to_string(value) : std::string());
    return {scalar(path, "SELECT CAST(round(score * 1000) AS INTEGER)" + where),
            scalar(path, "SELECT anomaly" + where)};
}

} // namespace

BOOST_AUTO_TEST_CASE(a_score_for_a_stored_reading_is_written_at_once) {
    TempDir dir;
    const auto path = dir.file("h.db");
    ingest(path, {reading(1000, 21, 1)});
    Database db(path);
    ScoreWriter writer(db);
    writer.write(scored(reading(1000, 21, 1), 0.25, false), 0);
    writer.commit();
    BOOST_TEST(writer.counts().updated == 1U);
    BOOST_TEST(writer.counts().late == 0U);
    BOOST_TEST(writer.waiting() == 0U);
    BOOST_TEST(stored(path, 1000).first == 250);
    BOOST_TEST(stored(path, 1000).second == 0);
}

BOOST_AUTO_TEST_CASE(a_score_before_its_reading_waits_until_the_other_writer_commits_it) {
    TempDir dir;
    const auto path = dir.file("h.db");
    Database db(path);
    ScoreWriter writer(db);
    // Scored first: the reading is not stored yet. Its anomalies row is added at once.
    writer.write(scored(reading(1000, 60, 1), 1.0, true), 0);
    writer.commit();
    BOOST_TEST(writer.waiting() == 1U);
    BOOST_TEST(writer.counts().updated == 0U);
    BOOST_TEST(scalar(path, "SELECT count(*) FROM anomalies") == 1);
    BOOST_TEST(!writer.retry(10)); // nobody else committed since the first look
    writer.commit();
    BOOST_TEST(writer.waiting() == 1U);

    ingest(path, {reading(1000, 60, 1)});
    BOOST_TEST(stored(path, 1000).first == -1);
    BOOST_TEST(writer.retry(20));
    writer.commit();
    BOOST_TEST(writer.waiting() == 0U);
    BOOST_TEST(writer.counts().updated == 1U);
    BOOST_TEST(writer.counts().late == 1U);
    BOOST_TEST(writer.counts().unmatched == 0U);
    BOOST_TEST(stored(path, 1000).first == 1000);
    BOOST_TEST(stored(path, 1000).second == 1);
}

BOOST_AUTO_TEST_CASE(a_reading_stored_late_behind_newer_ones_still_gets_its_score) {
    TempDir dir;
    const auto path = dir.file("h.db");
    ingest(path, {reading(5000, 21, 5)});
    Database db(path);
    ScoreWriter writer(db);
    writer.write(scored(reading(1000, 20, 1), 0.5, false), 0); // older than the newest stored
    writer.commit();
    BOOST_TEST(writer.waiting() == 1U);
    ingest(path, {reading(1000, 20, 1)});
    writer.retry(10);
    writer.commit();
    BOOST_TEST(writer.counts().late == 1U);
    BOOST_TEST(stored(path, 1000).first == 500);
}

BOOST_AUTO_TEST_CASE(readings_without_seq_are_found_by_series_ts_and_value) {
    TempDir dir;
    const auto path = dir.file("h.db");
    // Two seqless readings in one millisecond (stored as seq -1 and -2), one scored before and one
    // after it is stored.
    ingest(path, {reading(1000, 21, std::nullopt)});
    Database db(path);
    ScoreWriter writer(db);
    writer.write(scored(reading(1000, 21, std::nullopt), 0.125, false), 0);
    writer.write(scored(reading(1000, 60, std::nullopt), 1.0, true), 0);
    writer.commit();
    BOOST_TEST(writer.counts().updated == 1U);
    BOOST_TEST(writer.waiting() == 1U);
    BOOST_TEST(stored(path, 1000, 21).first == 125); // not the 60's score
    BOOST_TEST(stored(path, 1000, 21).second == 0);

    ingest(path, {reading(1000, 60, std::nullopt)});
    writer.retry(10);
    writer.commit();
    BOOST_TEST(writer.waiting() == 0U);
    BOOST_TEST(stored(path, 1000, 60).first == 1000);
    BOOST_TEST(stored(path, 1000, 60).second == 1);
    BOOST_TEST(stored(path, 1000, 21).first == 125);
    BOOST_TEST(stored(path, 1000, 21).second == 0);
    BOOST_TEST(scalar(path, "SELECT count(*) FROM readings WHERE anomaly = 1") ==
               scalar(path, "SELECT count(*) FROM anomalies"));
}

BOOST_AUTO_TEST_CASE(a_score_whose_reading_never_comes_is_given_up_after_the_wait) {
    TempDir dir;
    const auto path = dir.file("h.db");
    Database db(path);
    ScoreWriter writer(db, ScoreOptions{.batch = 10, .wait_ms = 1000});
    writer.write(scored(reading(1000, 21, 1), 0.25, false), 0);
    writer.commit();
    ingest(path, {reading(2000, 21, 2)}); // the stream goes on without it
    writer.retry(999);
    writer.commit();
    BOOST_TEST(writer.waiting() == 1U);
    BOOST_TEST(writer.counts().unmatched == 0U);
    writer.retry(1000); // 1000 ms after it was scored
    writer.commit();
    BOOST_TEST(writer.waiting() == 0U);
    BOOST_TEST(writer.counts().unmatched == 1U);
    BOOST_TEST(writer.counts().updated == 0U);
}

BOOST_AUTO_TEST_CASE(waiting_scores_are_bounded_the_oldest_given_up_first) {
    TempDir dir;
    const auto path = dir.file("h.db");
    Database db(path);
    ScoreWriter writer(db, ScoreOptions{.batch = 10, .wait_ms = 60000, .max_waiting = 3});
    for (std::int64_t i = 1; i <= 5; ++i)
        writer.write(scored(reading(i * 1000, 21, i), 0.25, false), 0);
    writer.commit();
    BOOST_TEST(writer.waiting() == 3U);
    BOOST_TEST(writer.counts().unmatched == 2U);
    ingest(path, {reading(1000, 21, 1), reading(2000, 21, 2), reading(3000, 21, 3),
                  reading(4000, 21, 4), reading(5000, 21, 5)});
    writer.retry(10);
    writer.commit();
    BOOST_TEST(writer.counts().updated == 3U);
    // 1000 and 2000 were given up: 3000, 4000, 5000 have their score.
    BOOST_TEST(scalar(path, "SELECT min(ts) FROM readings WHERE score IS NOT NULL") == 3000);
    BOOST_TEST(scalar(path, "SELECT count(*) FROM readings WHERE score IS NULL") == 2);
}

BOOST_AUTO_TEST_CASE(finish_takes_a_last_look_then_gives_up_the_rest) {
    TempDir dir;
    const auto path = dir.file("h.db");
    Database db(path);
    ScoreWriter writer(db);
    writer.write(scored(reading(1000, 21, 1), 0.25, false), 0);
    writer.write(scored(reading(2000, 21, 2), 0.25, false), 0);
    writer.commit();
    ingest(path, {reading(1000, 21, 1)});
    writer.finish();
    writer.commit();
    BOOST_TEST(writer.waiting() == 0U);
    BOOST_TEST(writer.counts().updated == 1U);
    BOOST_TEST(writer.counts().late == 1U);
    BOOST_TEST(writer.counts().unmatched == 1U);
    BOOST_TEST(stored(path, 1000).first == 250);
}

// QoS 1 may deliver a scored reading twice, also to a restarted iots-detect: one anomalies row,
// counted once.
BOOST_AUTO_TEST_CASE(a_redelivered_anomaly_adds_no_second_row) {
    TempDir dir;
    const auto path = dir.file("h.db");
    ingest(path, {reading(1000, 60, 1), reading(2000, 61, 2)});
    {
        Database db(path);
        ScoreWriter writer(db);
        writer.write(scored(reading(1000, 60, 1), 1.0, true), 0);
        writer.write(scored(reading(1000, 60, 1), 1.0, true), 0); // in the same batch
        writer.commit();
        writer.write(scored(reading(1000, 60, 1), 1.0, true), 0); // in a later one
        writer.commit();
        BOOST_TEST(writer.counts().anomalies == 1U);
    }
    {
        Database db(path); // another run of iots-detect, the broker redelivering
        ScoreWriter writer(db);
        writer.write(scored(reading(1000, 60, 1), 1.0, true), 0);
        writer.write(scored(reading(2000, 61, 2), 1.0, true), 0); // a new one still counts
        writer.commit();
        BOOST_TEST(writer.counts().anomalies == 1U);
    }
    BOOST_TEST(scalar(path, "SELECT count(*) FROM anomalies") == 2);
    BOOST_TEST(scalar(path, "SELECT count(*) FROM anomalies WHERE ts = 1000") == 1);
    BOOST_TEST(scalar(path, "SELECT anomalies FROM series") == 2);
}

// A file written before the anomalies key existed: its duplicate rows are removed once, and the
// series' count follows.
BOOST_AUTO_TEST_CASE(the_migration_removes_duplicate_anomalies_of_an_older_file) {
    TempDir dir;
    const auto path = dir.file("old.db");
    {
        Database db(path);
        db.exec("DROP INDEX IF EXISTS anomalies_by_key");
        db.exec("DROP TABLE IF EXISTS privacy_ledger"); // schema v3
        db.exec("DROP TABLE IF EXISTS rollup_minute; DROP TABLE IF EXISTS rollup_hour"); // v4
        db.exec("DROP TABLE IF EXISTS reading_chunks");                                  // v5
        db.exec("INSERT INTO devices (id, name) VALUES (1, 'node')");
        db.exec("INSERT INTO sensors (id, name) VALUES (1, 'gas')");
        db.exec("INSERT INTO series (id, device_id, sensor_id, anomalies) VALUES (1, 1, 1, 4)");
        db.exec("INSERT INTO anomalies (series_id, ts, value, score) VALUES (1, 1000, 2000, 1),"
                " (1, 1000, 2000, 1), (1, 1000, 2000, 1), (1, 2000, 2100, 1)");
        db.exec("PRAGMA user_version=1");
    }
    Database db(path);
    BOOST_TEST(db.schema_version() == iots::store::latest_schema_version());
    BOOST_TEST(scalar(path, "SELECT count(*) FROM anomalies") == 2);
    BOOST_TEST(scalar(path, "SELECT min(id) FROM anomalies") == 1); // the first one kept
    BOOST_TEST(scalar(path, "SELECT anomalies FROM series WHERE id = 1") == 2);
    BOOST_CHECK_THROW(
        db.exec("INSERT INTO anomalies (series_id, ts, value, score) VALUES (1, 2000, 2100, 1)"),
        iots::Error);
}
