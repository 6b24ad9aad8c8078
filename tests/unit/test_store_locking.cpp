// Several connections writing one file, as iots-ingest, iots-detect, iots-alert and iots-serve do:
// a new file gets its schema once, a writer that commits back to back leaves room for another, and
// a writer told to be patient waits past the busy timeout instead of failing.
#define BOOST_TEST_MODULE store_locking
#include "iotshield/core/error.hpp"
#include "iotshield/store/database.hpp"
#include "iotshield/store/reading_writer.hpp"
#include "iotshield/store/schema.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace fs = std::filesystem;
using iots::Error;
using iots::Exit;
using iots::record::Reading;
using iots::store::Database;
using iots::store::ReadingWriter;
using iots::store::Transaction;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "iots-locking-XXXXXX").string();
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

Reading reading(std::int64_t seq) {
    Reading r;
    r.device = "node";
    r.sensor = "temperature";
    r.ts = 1000 + seq;
    r.value = 21;
    r.seq = seq;
    return r;
}

} // namespace

// Both read user_version 0 before either migrated: the second must not run the migration again
// ("table devices already exists") once it has the write lock.
BOOST_AUTO_TEST_CASE(a_new_file_opened_by_two_writers_at_once_gets_its_schema_once) {
    TempDir dir;
    const auto path = dir.file("new.db");
    // A file in WAL mode with no schema yet, and a connection holding its write lock.
    Database holder(path);
    holder.exec("PRAGMA user_version=0");
    for (const auto* t :
         {"reading_chunks", "rollup_hour", "rollup_minute", "privacy_ledger", "stats", "commands",
          "alerts", "anomalies", "readings", "series", "sensors", "devices"})
        holder.exec(std::string("DROP TABLE ") + t);
    holder.exec("BEGIN IMMEDIATE");

    std::atomic<bool> waiting{false}, opened{false}, failed{false};
    std::string error;
    std::thread second([&] {
        try {
            // Reads version 0, then waits for the write lock to migrate.
            Database db(path, {.read_only = false,
                               .create = false,
                               .busy_timeout_ms = 1,
                               .on_busy = [&](int) { return waiting = true; }});
            opened = true;
        } catch (const Error& e) {
            error = e.what();
            failed = true;
        }
    });
    while (!waiting && !failed)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (const auto& migration : iots::store::migrations())
        holder.exec(migration);
    holder.exec("PRAGMA user_version=" + std::to_string(iots::store::latest_schema_version()));
    holder.exec("COMMIT");
    second.join();
    BOOST_TEST(error == "");
    BOOST_TEST(opened.load());
    BOOST_TEST(scalar(holder, "PRAGMA user_version") == iots::store::latest_schema_version());
}

// A writer that commits and at once begins again (iots-detect behind a backlog) must leave
// another connection a turn within that connection's busy timeout.
BOOST_AUTO_TEST_CASE(a_writer_committing_back_to_back_leaves_another_writer_a_turn) {
    TempDir dir;
    const auto path = dir.file("fair.db");
    { Database init(path); }
    std::atomic<bool> done{false};
    std::thread hog([&] {
        Database db(path);
        auto bump = db.prepare("INSERT INTO stats (key, value) VALUES ('hog', 1) "
                               "ON CONFLICT (key) DO UPDATE SET value = value + 1");
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!done && std::chrono::steady_clock::now() < until) {
            Transaction tx(db);
            bump.run();
            std::this_thread::sleep_for(std::chrono::milliseconds(20)); // its work, lock held
            tx.commit();
        }
    });
    {
        Database db(path);
        while (scalar(db, "SELECT count(*) FROM stats WHERE key = 'hog'") == 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::string error;
    try {
        Database db(path, {.read_only = false, .create = false, .busy_timeout_ms = 2000});
        ReadingWriter writer(db);
        for (std::int64_t i = 0; i < 10; ++i) {
            writer.add(reading(i), 0);
            writer.commit();
        }
    } catch (const Error& e) {
        error = e.what();
    }
    done = true;
    hog.join();
    BOOST_TEST(error == "");
    Database db(path);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM readings") == 10);
}

BOOST_AUTO_TEST_CASE(a_lock_held_past_the_busy_timeout_is_exit_69) {
    TempDir dir;
    const auto path = dir.file("held.db");
    Database holder(path);
    holder.exec("BEGIN IMMEDIATE");
    Database db(path, {.read_only = false, .create = false, .busy_timeout_ms = 50});
    try {
        db.exec("INSERT INTO stats (key, value) VALUES ('x', 1)");
        BOOST_FAIL("wrote through another connection's write lock");
    } catch (const Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(Exit::unavailable));
        BOOST_TEST(std::string(e.what()).find("locked") != std::string::npos);
    }
    holder.exec("ROLLBACK");
}

// iots-ingest's policy (patient_writer): past the busy timeout it is asked whether to wait on, and
// waiting on, the write goes through once the lock is free.
BOOST_AUTO_TEST_CASE(a_patient_writer_waits_past_the_busy_timeout) {
    TempDir dir;
    const auto path = dir.file("patient.db");
    Database holder(path);
    holder.exec("BEGIN IMMEDIATE");
    std::atomic<int> asked{0};
    std::atomic<bool> done{false}, failed{false};
    std::thread writer([&] {
        try {
            Database db(path, {.read_only = false,
                               .create = false,
                               .busy_timeout_ms = 20,
                               .on_busy = [&](int periods) {
                                   asked = periods;
                                   return true;
                               }});
            db.exec("INSERT INTO stats (key, value) VALUES ('patient', 1)");
            done = true;
        } catch (const Error&) {
            failed = true;
        }
    });
    while (asked < 3 && !failed) // 60 ms and more: three times the busy timeout
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    BOOST_TEST(!done.load());
    holder.exec("COMMIT");
    writer.join();
    BOOST_TEST(!failed.load());
    BOOST_TEST(done.load());
    BOOST_TEST(asked >= 3);
    BOOST_TEST(scalar(holder, "SELECT count(*) FROM stats WHERE key = 'patient'") == 1);
}
