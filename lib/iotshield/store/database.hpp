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
    // Not copied (SQLITE_STATIC): the text must stay alive and unchanged until the statement ran.
    Statement& bind_static(int index, std::string_view v);
    // A BLOB, copied (SQLITE_TRANSIENT).
    Statement& bind_blob(int index, std::string_view bytes);
    template <typename T> Statement& bind(int index, const std::optional<T>& v) {
        return v ? bind(index, *v) : bind_null(index);
    }

    // true: a row is ready; false: done. Throws on error.
    bool step();
    // Runs to completion, resets and clears bindings; returns sqlite3_changes.
    int run();
    void reset();
    // One step of a statement that returns no row, then a reset that keeps the bindings; returns
    // the rows it changed. Throws "path: what: sqlite says".
    int execute(std::string_view what);

    [[nodiscard]] bool is_null(int col) const;
    [[nodiscard]] std::int64_t column_int(int col) const;
    [[nodiscard]] double column_double(int col) const;
    [[nodiscard]] std::string column_text(int col) const;
    // The column's bytes (a BLOB, or text), valid until the next step() or reset().
    [[nodiscard]] std::string_view column_blob(int col) const;
    [[nodiscard]] std::optional<double> column_optional_double(int col) const;
    [[nodiscard]] bool prepared() const noexcept { return m_stmt != nullptr; }

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
    [[nodiscard]] const std::string& path() const noexcept { return m_path; }
    [[nodiscard]] int schema_version();
    [[nodiscard]] std::int64_t last_insert_rowid() const;
    // Inside an open transaction (not in autocommit mode).
    [[nodiscard]] bool in_transaction() const noexcept;
    // ROLLBACK if a transaction is open, ignoring any failure: for cleaning up after one.
    void rollback_quietly() noexcept;

    // Calls hook(arg, pages in the WAL) on the committing thread after each commit, instead of
    // SQLite's automatic checkpoint (checkpointer.*). Must not block or use this connection.
    using WalHook = void (*)(void* arg, int pages);
    void set_wal_hook(WalHook hook, void* arg);
    // Removes the hook: SQLite's automatic checkpoint at `pages` WAL pages again.
    void auto_checkpoint(int pages);

    struct Busy; // the busy handler's state (database.cpp)
    struct Wal;  // the WAL hook's target (database.cpp)

private:
    using Clock = std::chrono::steady_clock;
    sqlite3* m_db = nullptr;
    std::string m_path;
    std::unique_ptr<Busy> m_busy; // the busy handler's state, at a fixed address
    std::unique_ptr<Wal> m_wal;   // the WAL hook's target, at a fixed address
    Clock::time_point m_began{}, m_committed{};
};

// For a tool whose writes must not be lost (iots-ingest, iots-detect): waits for another writer's
// lock as long as it is held, with one warning per wait ("FILE: busy for 5 s (another writer);
// retrying"). After SIGINT/SIGTERM it gives up at the end of the next period (exit 69).
[[nodiscard]] OpenOptions patient_writer(const core::Logger& log, const std::string& path);

// A bare read-write connection that only runs WAL checkpoints (checkpointer.*): no schema, no
// pragmas, no busy handler but a timeout, and it never throws (a checkpoint that fails is retried
// at the next threshold).
class CheckpointConnection {
public:
    CheckpointConnection(const std::string& path, int busy_timeout_ms) noexcept;
    ~CheckpointConnection();
    CheckpointConnection(const CheckpointConnection&) = delete;
    CheckpointConnection& operator=(const CheckpointConnection&) = delete;

    [[nodiscard]] bool is_open() const noexcept { return m_open; }
    // A read of the schema (a connection that has not read the database has not opened its WAL:
    // SQLite 3.40 then checkpoints nothing and says SQLITE_OK), then a PASSIVE checkpoint. The
    // frames in the WAL, or -1 if the checkpoint failed.
    int checkpoint_passive() noexcept;
    // A TRUNCATE checkpoint: empties the WAL, waiting at most the busy timeout for its readers.
    void checkpoint_truncate() noexcept;

private:
    sqlite3* m_db = nullptr;
    bool m_open = false;
};

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
