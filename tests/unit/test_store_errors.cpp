// SQLite failures as the tools report them: the exit code of DESIGN §5 and a message that names
// the database file ("home.db: step: attempt to write a readonly database").
#define BOOST_TEST_MODULE store_errors
#include "iotshield/core/error.hpp"
#include "iotshield/store/database.hpp"

#include <boost/test/unit_test.hpp>

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace iots;

namespace {
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        path = std::filesystem::temp_directory_path() /
               ("iots-store-errors-" + std::to_string(getpid()));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    [[nodiscard]] std::string file(const std::string& name) const { return (path / name).string(); }
};

// The Error a call throws (fails the test when it throws nothing or something else).
template <typename F> Error error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    BOOST_FAIL("no iots::Error thrown");
    return Error(Exit::ok, "");
}

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
}
} // namespace

BOOST_AUTO_TEST_CASE(sqlite_codes_map_to_the_exit_codes_of_design_5) {
    struct Case {
        int rc;
        Exit want;
    };
    const Case cases[] = {
        {SQLITE_FULL, Exit::io_error},
        {SQLITE_IOERR_WRITE, Exit::io_error},
        {SQLITE_IOERR_FSYNC, Exit::io_error},
        {SQLITE_READONLY, Exit::permission},
        {SQLITE_READONLY_CANTINIT, Exit::permission},
        {SQLITE_READONLY_DBMOVED, Exit::io_error}, // moved under the tool: not a permission
        {SQLITE_PERM, Exit::permission},
        {SQLITE_AUTH, Exit::permission},
        {SQLITE_CANTOPEN, Exit::no_input}, // no connection, no errno: a missing file
        {SQLITE_NOTADB, Exit::no_input},
        {SQLITE_BUSY, Exit::unavailable},
        {SQLITE_CORRUPT, Exit::failure},
    };
    for (const auto& c : cases) {
        const Error e = error_of([&] { store::throw_sqlite("home.db", nullptr, c.rc, "step"); });
        BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(c.want), "rc " << c.rc);
        BOOST_TEST(std::string(e.what()) == std::string("home.db: step: ") + sqlite3_errstr(c.rc));
    }
}

BOOST_AUTO_TEST_CASE(a_write_to_a_read_only_connection_is_77_and_names_the_file) {
    TempDir dir;
    const std::string path = dir.file("home.db");
    { store::Database create(path); }
    store::Database db(path, store::OpenOptions{.read_only = true, .create = false});
    Error e = error_of([&] { db.exec("DELETE FROM readings"); });
    BOOST_TEST(static_cast<int>(e.code()) == 77);
    BOOST_TEST(std::string(e.what()) ==
               path + ": DELETE FROM readings: attempt to write a readonly database");
    auto st = db.prepare("DELETE FROM readings");
    e = error_of([&] { st.step(); });
    BOOST_TEST(static_cast<int>(e.code()) == 77);
    BOOST_TEST(std::string(e.what()) == path + ": step: attempt to write a readonly database");
}

BOOST_AUTO_TEST_CASE(missing_unreadable_and_foreign_files_are_66_and_named) {
    TempDir dir;
    Error e = error_of(
        [&] { store::Database(dir.file("none.db"), store::OpenOptions{.create = false}); });
    BOOST_TEST(static_cast<int>(e.code()) == 66);
    BOOST_TEST(std::string(e.what()) == dir.file("none.db") + ": no such database");

    e = error_of([&] { store::Database(dir.file("no/such/dir/home.db")); });
    BOOST_TEST(static_cast<int>(e.code()) == 66);
    BOOST_TEST(starts_with(e.what(), dir.file("no/such/dir/home.db") + ": cannot create: "));

    std::ofstream(dir.file("text.db")) << std::string(8192, 'x');
    e = error_of([&] { store::Database{dir.file("text.db")}; });
    BOOST_TEST(static_cast<int>(e.code()) == 66);
    BOOST_TEST(starts_with(e.what(), dir.file("text.db") + ": "), e.what());
}

BOOST_AUTO_TEST_CASE(a_long_failing_script_is_named_by_its_first_line) {
    store::Database db(":memory:");
    const Error e = error_of([&] {
        db.exec("INSERT INTO no_such_table_with_a_long_name (a, b, c) VALUES (1, 2, 3);\n"
                "SELECT 1;");
    });
    // The first line cut at 37 characters and "...": 40 at most.
    BOOST_TEST(std::string(e.what()) ==
               ":memory:: INSERT INTO no_such_table_with_a_long...: no such table: "
               "no_such_table_with_a_long_name");
}
