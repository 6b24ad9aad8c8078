// The database writer thread of iots-alert: rows committed in the order handed over, in batches,
// nothing lost at finish() even with a full queue, and a database error reported to the caller.
#define BOOST_TEST_MODULE alert_writer
#include "iotshield/alert/writer.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/core/thread_priority.hpp"
#include "thread_nice.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>
#include <unistd.h>

using namespace iots;

namespace {
struct TempDb {
    std::filesystem::path path;
    explicit TempDb(const std::string& name) {
        path = std::filesystem::temp_directory_path() /
               ("iots-alert-writer-" + name + "-" + std::to_string(getpid()) + ".db");
        remove();
    }
    ~TempDb() { remove(); }
    void remove() const {
        for (const char* ext : {"", "-wal", "-shm"})
            std::filesystem::remove(path.string() + ext);
    }
};

store::AlertRow row(const std::string& incident, int n, const std::string& status = "new") {
    store::AlertRow r;
    r.id = incident + "." + std::to_string(n);
    r.ts = 1000 + n;
    r.device = "dev";
    r.sensor = "flame";
    r.severity = "CRITICAL";
    r.title = r.rules_title = "Fire detected in the kitchen";
    r.incident = incident;
    r.status = status;
    r.json = "{}";
    return r;
}

std::int64_t count(store::Database& db, const std::string& where) {
    auto s = db.prepare("SELECT count(*) FROM alerts WHERE " + where);
    BOOST_REQUIRE(s.step());
    return s.column_int(0);
}
} // namespace

BOOST_AUTO_TEST_CASE(insert_update_resolve_in_order) {
    TempDb tmp("order");
    alert::AlertWriter w(std::make_unique<store::Database>(tmp.path.string()));
    w.insert(row("a", 1));
    w.insert(row("a", 2));
    store::AlertRow upd = row("a", 1);
    upd.title = "AI: fire in the kitchen";
    upd.source = "gemini";
    upd.updated_ts = 5000;
    w.update_text(upd); // after its insert, whatever the batches
    w.insert(row("a", 3, "resolved"), true);
    w.insert(row("b", 1));
    w.flush();
    store::Database db(tmp.path.string());
    BOOST_TEST(count(db, "1") == 5 - 1); // a.1 a.2 a.3 b.1
    BOOST_TEST(count(db, "id = 'a.1' AND source = 'gemini' AND title <> rules_title") == 1);
    // The resolve alert marks the incident's earlier alerts resolved, not another incident's.
    BOOST_TEST(count(db, "incident = 'a' AND status = 'resolved'") == 3);
    BOOST_TEST(count(db, "incident = 'b' AND status = 'new'") == 1);
    w.finish();
    const auto c = w.counters();
    BOOST_TEST(c.rows == 5u);
    BOOST_TEST(c.commits >= 1u);
    BOOST_TEST(c.commits <= c.rows);
}

BOOST_AUTO_TEST_CASE(full_queue_waits_and_finish_loses_nothing) {
    TempDb tmp("full");
    constexpr int kRows = 2000;
    {
        // A queue of 4: the caller waits for room (back-pressure) rather than dropping rows.
        alert::AlertWriter w(std::make_unique<store::Database>(tmp.path.string()), 4);
        for (int i = 0; i < kRows; ++i)
            w.insert(row("i" + std::to_string(i % 50), i));
        w.finish();
        BOOST_TEST(w.counters().rows == static_cast<std::uint64_t>(kRows));
        w.finish(); // idempotent
    }
    store::Database db(tmp.path.string());
    BOOST_TEST(count(db, "1") == kRows);
}

BOOST_AUTO_TEST_CASE(destructor_commits_what_is_queued) {
    TempDb tmp("dtor");
    {
        alert::AlertWriter w(std::make_unique<store::Database>(tmp.path.string()));
        for (int i = 0; i < 100; ++i)
            w.insert(row("x", i));
    }
    store::Database db(tmp.path.string());
    BOOST_TEST(count(db, "1") == 100);
}

BOOST_AUTO_TEST_CASE(database_error_reaches_the_caller) {
    TempDb tmp("error");
    auto db = std::make_unique<store::Database>(tmp.path.string());
    db->exec("CREATE TRIGGER refuse BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'refused'); "
             "END");
    alert::AlertWriter w(std::move(db));
    w.insert(row("e", 1));
    BOOST_CHECK_THROW(w.flush(), Error);
    BOOST_CHECK_THROW(w.insert(row("e", 2)), Error); // every later call reports it too
    BOOST_CHECK_THROW(w.finish(), Error);
}

// The alert has gone out before its row is handed over: the thread that commits it runs at a lower
// priority (nice +5), so that on a busy machine the next alarm does not wait in the run queue
// behind a commit. The caller's thread is left alone, and rows still all reach the database.
BOOST_AUTO_TEST_CASE(the_writer_thread_runs_in_the_background) {
    TempDb tmp("nice");
    const int base = core::thread_nice();
    const int background = base + core::kBackgroundNice;
    const std::size_t before = test::threads_at_nice(background, 0);
    alert::AlertWriter w(std::make_unique<store::Database>(tmp.path.string()));
    BOOST_TEST(test::threads_at_nice(background, before + 1) >= before + 1);
    BOOST_TEST(core::thread_nice() == base);
    w.insert(row("a", 1));
    w.flush();
    w.finish();
    store::Database db(tmp.path.string());
    BOOST_TEST(count(db, "1") == 1);
}
