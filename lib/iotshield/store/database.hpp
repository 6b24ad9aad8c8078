#pragma once
// RAII over sqlite3 and sqlite3_stmt. The only place SQLite's C API is used; every failure becomes
// an iots::Error with the exit code of DESIGN §5 (missing file 66, I/O 74, permission 77, else 1)
// and a message that names the file: "home.db: step: attempt to write a readonly database".
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace iots::core {
class Logger;
}

namespace iots::store {

class Statement {
public:
    Statement() = default;
    // path: the database's file, for messages.
    Statement(sqlite3* db, std::string path, std::string_view sql);
    ~Statement();
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Binding is 1-based like SQLite's. Everything a client sends goes through these, never into
    // SQL.
    Statement& bind(int index, std::int64_t v);
    Statement& bind(int index, double v);
    Statement& bind(int index, std::string_view v); // copied (SQLITE_TRANSIENT)
    Statement& bind_null(int index);
    template <typename T> Statement& bind(int index, const std::optional<T>& v) {
        return v ? bind(index, *v) : bind_null(index);
    }

    // true: a row is ready; false: done. Throws on error.
    bool step();
    // Runs to completion, resets and clears bindings; returns sqlite3_changes.
    int run();
    void reset();

    [[nodiscard]] bool is_null(int col) const;
    [[nodiscard]] std::int64_t column_int(int col) const;
    [[nodiscard]] double column_double(int col) const;
    [[nodiscard]] std::string column_text(int col) const;
    [[nodiscard]] std::optional<double> column_optional_double(int col) const;
    [[nodiscard]] sqlite3_stmt* handle() const noexcept { return m_stmt; }

private:
    sqlite3* m_db = nullptr;
    sqlite3_stmt* m_stmt = nullptr;
    std::string m_path;
};

struct OpenOptions {
    bool read_only = false;
    bool create = true; // create the file (mode 0600) and the schema if missing
    // How long a statement waits for another connection's lock before it fails with exit 69.
    int busy_timeout_ms = 5000;
    // Not read_only, and the file cannot be written (its mode, owner or file system): fail at
    // open with exit 77 rather than at the first write. Off for a tool that mostly reads.
    bool require_write = true;
    // Asked instead each time one wait has lasted another busy_timeout_ms (periods: 1, 2, ...):
    // true waits on. Runs inside SQLite: must not throw or use this connection.
    std::function<bool(int periods)> on_busy = nullptr;
};

class Database {
public:
    // Opens (or creates) the file, sets WAL and synchronous=NORMAL, and migrates the schema
    // forward. Throws Error: 66 missing or not a database, 77 not writable (see OpenOptions).
    explicit Database(const std::string& path, OpenOptions options = {});
    ~Database();
    Database(Database&& other) noexcept;
    Database& operator=(Database&& other) noexcept;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    void exec(std::string_view sql);
    [[nodiscard]] Statement prepare(std::string_view sql);
    // Every write transaction: BEGIN IMMEDIATE, then commit(). SQLite's write lock has no queue:
    // a connection that began again right after its commit would take the lock before another's
    // busy handler looks. So begin_immediate() first leaves the lock free for a turn after this
    // connection's last commit: a sixteenth of how long it held the lock, 0.2 to 2 ms.
    void begin_immediate();
    void commit();
    [[nodiscard]] sqlite3* handle() const noexcept { return m_db; }
    [[nodiscard]] const std::string& path() const noexcept { return m_path; }
    [[nodiscard]] int schema_version();
    [[nodiscard]] std::int64_t last_insert_rowid() const;

    struct Busy; // the busy handler's state (database.cpp)

private:
    using Clock = std::chrono::steady_clock;
    sqlite3* m_db = nullptr;
    std::string m_path;
    std::unique_ptr<Busy> m_busy; // the busy handler's state, at a fixed address
    Clock::time_point m_began{}, m_committed{};
};

// For a tool whose writes must not be lost (iots-ingest, iots-detect): waits for another writer's
// lock as long as it is held, with one warning per wait ("FILE: busy for 5 s (another writer);
// retrying"). After SIGINT/SIGTERM it gives up at the end of the next period (exit 69).
[[nodiscard]] OpenOptions patient_writer(const core::Logger& log, const std::string& path);

// BEGIN IMMEDIATE ... COMMIT, rolled back if destroyed without commit().
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    Database* m_db;
    bool m_done = false;
};

// Maps an SQLite result code to the exit code of DESIGN §5, with the message
// "path: what: sqlite says".
[[noreturn]] void throw_sqlite(std::string_view path, sqlite3* db, int rc, std::string_view what);

} // namespace iots::store
