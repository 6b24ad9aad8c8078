// store::Checkpointer (issue 10): a writer's commits no longer run the WAL checkpoint themselves
// (SQLite's automatic one copies pages back and fsyncs inside the COMMIT that crosses 1000 pages,
// holding iots-ingest's committed records off stdout); the checkpointer's thread runs it instead.
#define BOOST_TEST_MODULE store_checkpointer
#include "iotshield/core/thread_priority.hpp"
#include "iotshield/store/checkpointer.hpp"
#include "iotshield/store/database.hpp"

#include "thread_nice.hpp"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using iots::store::Checkpointer;
using iots::store::Database;

namespace {

struct TempFile {
    fs::path dir = fs::temp_directory_path() / ("iots-ckpt-" + std::to_string(::getpid()));
    TempFile() { fs::create_directories(dir); }
    ~TempFile() { fs::remove_all(dir); }
    [[nodiscard]] std::string db() const { return (dir / "w.db").string(); }
    [[nodiscard]] std::uintmax_t wal_pages() const {
        return fs::file_size(dir / "w.db-wal") / 4096;
    }
};

// `commits` transactions of one 4000-byte row each: at least one WAL page apiece.
void write(Database& db, int commits) {
    db.exec("CREATE TABLE IF NOT EXISTS t (x BLOB)");
    for (int i = 0; i < commits; ++i)
        db.exec("INSERT INTO t VALUES (randomblob(4000))");
}

} // namespace

BOOST_AUTO_TEST_CASE(commits_do_not_checkpoint_on_the_writers_connection) {
    TempFile f;
    Database db(f.db());
    // A threshold the test never reaches: only the writer's own automatic checkpoint could run.
    Checkpointer checkpointer(db, 1000000);
    write(db, 1500);
    // SQLite's automatic checkpoint at 1000 pages would have restarted the WAL from its start.
    BOOST_TEST(f.wal_pages() > 1400U);
    BOOST_TEST(checkpointer.checkpoints() == 0U);
}

BOOST_AUTO_TEST_CASE(the_checkpointer_thread_checkpoints_past_its_threshold) {
    TempFile f;
    Database db(f.db());
    Checkpointer checkpointer(db, 50);
    write(db, 200);
    checkpointer.wait_idle();
    BOOST_TEST(checkpointer.checkpoints() >= 1U);
    // What was checkpointed is in the database file itself: a new connection reads every row.
    Database reader(f.db());
    auto st = reader.prepare("SELECT count(*) FROM t");
    BOOST_TEST_REQUIRE(st.step());
    BOOST_TEST(st.column_int(0) == 200);
}

BOOST_AUTO_TEST_CASE(an_in_memory_database_needs_none) {
    Database db(":memory:");
    Checkpointer checkpointer(db, 1);
    write(db, 10);
    checkpointer.wait_idle();
    BOOST_TEST(checkpointer.checkpoints() == 0U);
}

// SQLite (3.40) skips a checkpoint asked of a connection that has not read the database yet: it
// has not opened the WAL, returns SQLITE_OK and copies nothing. The checkpointer's own connection
// is such a one: the WAL grew without end (7 GiB in the 3-minute soak at 3,000 readings/s), and
// its index with it, mapped into every tool on the database.
BOOST_AUTO_TEST_CASE(checkpoints_copy_pages_into_the_database_file_and_the_wal_restarts) {
    TempFile f;
    Database db(f.db());
    Checkpointer checkpointer(db, 50);
    std::uintmax_t most = 0;
    for (int round = 0; round < 10; ++round) {
        write(db, 200);
        checkpointer.wait_idle();
        most = std::max(most, f.wal_pages());
    }
    BOOST_TEST(checkpointer.checkpoints() >= 10U);
    BOOST_TEST(fs::file_size(f.dir / "w.db") >= 2000U * 4000U);
    // Each round (about 600 pages) starts the WAL again from its beginning: never two rounds'
    // worth.
    BOOST_TEST(most < 1200U);
}

// A writer that never pauses: a PASSIVE checkpoint copies the frames there were when it began, but
// the writer has added more by the time it ends, so the WAL is never completely checkpointed when
// a transaction begins, which is when SQLite restarts it. It grew without end. Past 16 times its
// threshold the checkpointer takes the write lock between two commits and empties the file
// (TRUNCATE); nothing else ever makes the file smaller.
BOOST_AUTO_TEST_CASE(a_writer_that_never_pauses_does_not_grow_the_wal_without_end) {
    TempFile f;
    Database db(f.db());
    Checkpointer checkpointer(db, 20);
    write(db, 1);
    std::uintmax_t most = 0;
    bool emptied = false;
    for (int i = 0; i < 100 && !emptied; ++i) {
        write(db, 50);
        const std::uintmax_t now = f.wal_pages();
        emptied = now < most;
        most = std::max(most, now);
    }
    BOOST_TEST(emptied);
}

// The checkpoints are nobody's wait, but they compete for the CPU with the threads a fire alarm
// goes through (the soak: publish -> alert p99 173 ms on two busy cores): the thread copying WAL
// pages runs at a lower priority (nice +5), the writer's own thread as before.
BOOST_AUTO_TEST_CASE(the_checkpointer_thread_runs_in_the_background) {
    TempFile f;
    const int base = iots::core::thread_nice();
    const int background = std::min(base + iots::core::kBackgroundNice, 19); // setpriority's limit
    const std::size_t before = iots::test::threads_at_nice(background, 0);
    Database db(f.db());
    Checkpointer checkpointer(db, 50);
    BOOST_TEST(iots::test::threads_at_nice(background, before + 1) == before + 1);
    BOOST_TEST(iots::core::thread_nice() == base); // the writer's thread is left alone
    write(db, 200);                                // and it still checkpoints
    checkpointer.wait_idle();
    BOOST_TEST(checkpointer.checkpoints() >= 1U);
}
