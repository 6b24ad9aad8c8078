#include "iotshield/store/database.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/store/schema.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>

namespace iots::store {

void throw_sqlite(std::string_view path, sqlite3* db, int rc, std::string_view what) {
    const int primary = rc & 0xFF;
    std::string message(path);
    message += ": ";
    message += what;
    message += ": ";
    message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    Exit code = Exit::failure;
    switch (primary) {
    case SQLITE_CANTOPEN: {
        const int err = db != nullptr ? sqlite3_system_errno(db) : 0;
        code = err == EACCES || err == EPERM || err == EROFS ? Exit::permission : Exit::no_input;
        break;
    }
    case SQLITE_NOTADB:
        code = Exit::no_input;
        break;
    case SQLITE_IOERR:
    case SQLITE_FULL:
        code = Exit::io_error;
        break;
    case SQLITE_READONLY: // the file's mode, owner or file system; or it moved while open
        code = rc == SQLITE_READONLY_DBMOVED ? Exit::io_error : Exit::permission;
        break;
    case SQLITE_PERM:
    case SQLITE_AUTH:
        code = Exit::permission;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = Exit::unavailable;
        break;
    default:
        break;
    }
    throw Error(code, message);
}

// ---- Statement ----

Statement::Statement(sqlite3* db, std::string path, std::string_view sql)
    : m_db(db), m_path(std::move(path)) {
    const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &m_stmt, nullptr);
    if (rc != SQLITE_OK)
        throw_sqlite(m_path, db, rc, "prepare");
}

Statement::~Statement() {
    sqlite3_finalize(m_stmt);
}

Statement::Statement(Statement&& other) noexcept
    : m_db(other.m_db), m_stmt(std::exchange(other.m_stmt, nullptr)),
      m_path(std::move(other.m_path)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        sqlite3_finalize(m_stmt);
        m_db = other.m_db;
        m_stmt = std::exchange(other.m_stmt, nullptr);
        m_path = std::move(other.m_path);
    }
    return *this;
}

Statement& Statement::bind(int index, std::int64_t v) {
    if (const int rc = sqlite3_bind_int64(m_stmt, index, v); rc != SQLITE_OK)
        throw_sqlite(m_path, m_db, rc, "bind");
    return *this;
}

Statement& Statement::bind(int index, double v) {
    if (const int rc = sqlite3_bind_double(m_stmt, index, v); rc != SQLITE_OK)
        throw_sqlite(m_path, m_db, rc, "bind");
    return *this;
}

Statement& Statement::bind(int index, std::string_view v) {
    if (const int rc = sqlite3_bind_text(m_stmt, index, v.data(), static_cast<int>(v.size()),
                                         SQLITE_TRANSIENT);
        rc != SQLITE_OK)
        throw_sqlite(m_path, m_db, rc, "bind");
    return *this;
}

Statement& Statement::bind_null(int index) {
    if (const int rc = sqlite3_bind_null(m_stmt, index); rc != SQLITE_OK)
        throw_sqlite(m_path, m_db, rc, "bind");
    return *this;
}

Statement& Statement::bind_static(int index, std::string_view v) {
    if (const int rc =
            sqlite3_bind_text(m_stmt, index, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
        rc != SQLITE_OK)
        throw_sqlite(m_path, m_db, rc, "bind");
    return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
    if (const int rc = sqlite3_bind_blob(m_stmt, index, bytes.data(),
                                         static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
        rc != SQLITE_OK)
        throw_sqlite(m_path, m_db, rc, "bind");
    return *this;
}

int Statement::execute(std::string_view what) {
    const int rc = sqlite3_step(m_stmt);
    sqlite3_reset(m_stmt);
    if (rc != SQLITE_DONE)
        throw_sqlite(m_path, m_db, rc, what);
    return sqlite3_changes(m_db);
}

bool Statement::step() {
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    sqlite3_reset(m_stmt);
    throw_sqlite(m_path, m_db, rc, "step");
}

int Statement::run() {
    while (step()) {
    }
    const int changes = sqlite3_changes(m_db);
    reset();
    return changes;
}

void Statement::reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

bool Statement::is_null(int col) const {
    return sqlite3_column_type(m_stmt, col) == SQLITE_NULL;
}
std::int64_t Statement::column_int(int col) const {
    return sqlite3_column_int64(m_stmt, col);
}
double Statement::column_double(int col) const {
    return sqlite3_column_double(m_stmt, col);
}

std::string Statement::column_text(int col) const {
    const auto* p = sqlite3_column_text(m_stmt, col);
    if (p == nullptr)
        return {};
    return {reinterpret_cast<const char*>(p),
            static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, col))};
}

std::string_view Statement::column_blob(int col) const {
    const void* p = sqlite3_column_blob(m_stmt, col);
    if (p == nullptr)
        return {};
    return {static_cast<const char*>(p),
            static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, col))};
}

std::optional<double> Statement::column_optional_double(int col) const {
    if (is_null(col))
        return std::nullopt;
    return column_double(col);
}

// ---- Database ----

struct Database::Busy {
    int timeout_ms = 0;
    std::function<bool(int)> on_busy;
    Clock::time_point since{};
    int periods = 0;
};

namespace {

// SQLite calls this while another connection holds the lock (count: 0 at the first call of each
// wait). It sleeps in short steps: a writer committing back to back leaves the lock free for only
// 0.2 to 2 ms (begin_immediate), which one long sleep would miss.
extern "C" int wait_for_lock(void* arg, int count) {
    auto& busy = *static_cast<Database::Busy*>(arg);
    const auto now = std::chrono::steady_clock::now();
    if (count == 0) {
        busy.since = now;
        busy.periods = 0;
    }
    const auto waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - busy.since).count();
    if (waited >= static_cast<std::int64_t>(busy.periods + 1) * busy.timeout_ms) {
        ++busy.periods;
        try {
            if (!busy.on_busy || !busy.on_busy(busy.periods))
                return 0; // SQLITE_BUSY
        } catch (...) {
            return 0;
        }
    }
    const int us = count < 5 ? 50 << count : 1000; // 50, 100, 200, 400, 800 us, then 1 ms
    std::this_thread::sleep_for(std::chrono::microseconds(us));
    return 1;
}

void create_private_file(const std::string& path) {
    // Database files hold the home's raw readings: owner-only from the first byte (DESIGN §6).
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ::close(fd);
        return;
    }
    if (errno == EEXIST)
        return;
    const Exit code =
        errno == EACCES || errno == EPERM || errno == EROFS ? Exit::permission : Exit::no_input;
    throw Error(code, path + ": cannot create: " + std::strerror(errno));
}
// What a failed exec() did, for its message: "COMMIT", "PRAGMA journal_mode=WAL"; a long script
// (a migration) by its first line, shortened.
std::string sql_name(std::string_view sql) {
    std::string_view name = sql.substr(0, sql.find('\n'));
    while (!name.empty() && (name.back() == ' ' || name.back() == ';'))
        name.remove_suffix(1);
    if (name.size() > 40)
        return std::string(name.substr(0, 37)) + "...";
    return std::string(name);
}
// Process-wide, before the first connection: no memory statistics (they take a global mutex on
// every malloc). Fails harmlessly (SQLITE_MISUSE) if SQLite was initialised elsewhere first.
// Switching a new file to WAL takes an exclusive lock, and SQLite answers SQLITE_BUSY at once,
// without the busy handler, while another connection opening the same file holds a shared lock
// (two members of a --share group started together): retry within the busy timeout.
int set_wal(sqlite3* db, int timeout_ms) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        const int rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
        if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= until)
            return rc;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}
void configure_sqlite() {
    static const bool done = [] {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        return true;
    }();
    (void)done;
}
} // namespace

Database::Database(const std::string& path, OpenOptions options)
    : m_path(path), m_busy(std::make_unique<Busy>()) {
    const bool in_memory = path == ":memory:" || path.empty();
    if (!in_memory && options.create && !options.read_only)
        create_private_file(path);
    if (!in_memory && !options.create && ::access(path.c_str(), F_OK) != 0)
        throw Error(Exit::no_input, path + ": no such database");
    configure_sqlite();
    const int flags =
        (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(in_memory ? ":memory:" : path.c_str(), &m_db, flags, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3* db = std::exchange(m_db, nullptr);
        try {
            throw_sqlite(path, db, rc, "open");
        } catch (...) {
            sqlite3_close(db);
            throw;
        }
    }
    // SQLite opens a file it may not write read-only, and says so only at the first write.
    if (!in_memory && !options.read_only && options.require_write &&
        sqlite3_db_readonly(m_db, "main") == 1) {
        sqlite3_close(m_db);
        m_db = nullptr;
        throw Error(Exit::permission, path + ": cannot write: " + sqlite3_errstr(SQLITE_READONLY) +
                                          " (the file's mode, owner or file system)");
    }
    m_busy->timeout_ms = std::max(options.busy_timeout_ms, 0);
    m_busy->on_busy = std::move(options.on_busy);
    sqlite3_busy_handler(m_db, wait_for_lock, m_busy.get());
    sqlite3_extended_result_codes(m_db, 1);
    try {
        if (!options.read_only) {
            // A new file gives the pages retention frees back to the file system (the writer's
            // incremental vacuum). Only possible before the first table: an older file keeps its
            // mode until a one-time VACUUM (iotshield(7)).
            if (schema_version() == 0)
                exec("PRAGMA auto_vacuum=INCREMENTAL");
            if (const int wal = set_wal(m_db, options.busy_timeout_ms); wal != SQLITE_OK)
                throw_sqlite(path, m_db, wal, "journal_mode=WAL");
            exec("PRAGMA synchronous=NORMAL");
        }
        exec("PRAGMA foreign_keys=ON");
        const int version = schema_version();
        const int latest = latest_schema_version();
        if (version > latest)
            throw Error(Exit::no_input, path + ": schema version " + std::to_string(version) +
                                            ", newer than this tool's " + std::to_string(latest));
        if (version < latest) {
            if (options.read_only)
                throw Error(Exit::no_input, path + ": old schema (version " +
                                                std::to_string(version) +
                                                "); open it once with a writing tool to migrate");
            Transaction tx(*this);
            // Read again under the write lock: another writer opening the same new file (two
            // members of a --share group) may have migrated it since.
            const int current = schema_version();
            for (int v = current; v < latest; ++v)
                exec(migrations()[static_cast<std::size_t>(v)]);
            if (current < latest) {
                exec("PRAGMA user_version=" + std::to_string(latest));
                // Migrations that rebuild a table (6, rollup_minute) leave its old pages free,
                // also in a new file: give them back now (a no-op unless auto_vacuum is
                // INCREMENTAL), not to the writer's first retention steps.
                exec("PRAGMA incremental_vacuum");
            }
            tx.commit();
        }
    } catch (...) {
        sqlite3_close(m_db);
        m_db = nullptr;
        throw;
    }
}

Database::~Database() {
    if (m_db != nullptr)
        sqlite3_close_v2(m_db); // statements are RAII and finalized before
}

Database::Database(Database&& other) noexcept
    : m_db(std::exchange(other.m_db, nullptr)), m_path(std::move(other.m_path)),
      m_busy(std::move(other.m_busy)), m_wal(std::move(other.m_wal)), m_began(other.m_began),
      m_committed(other.m_committed) {}

Database& Database::operator=(Database&& other) noexcept {
    if (this != &other) {
        if (m_db != nullptr)
            sqlite3_close_v2(m_db);
        m_db = std::exchange(other.m_db, nullptr);
        m_path = std::move(other.m_path);
        m_busy = std::move(other.m_busy);
        m_wal = std::move(other.m_wal);
        m_began = other.m_began;
        m_committed = other.m_committed;
    }
    return *this;
}

void Database::exec(std::string_view sql) {
    const std::string text(sql);
    char* err = nullptr;
    const int rc = sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK)
        throw_sqlite(m_path, m_db, rc, sql_name(sql));
}

bool Database::in_transaction() const noexcept {
    return sqlite3_get_autocommit(m_db) == 0;
}

void Database::rollback_quietly() noexcept {
    if (in_transaction())
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
}

struct Database::Wal {
    WalHook hook = nullptr;
    void* arg = nullptr;
};

namespace {
extern "C" int on_wal_commit(void* arg, sqlite3*, const char*, int pages) {
    const auto& wal = *static_cast<const Database::Wal*>(arg);
    wal.hook(wal.arg, pages);
    return SQLITE_OK;
}
} // namespace

void Database::set_wal_hook(WalHook hook, void* arg) {
    m_wal = std::make_unique<Wal>(Wal{hook, arg});
    sqlite3_wal_hook(m_db, &on_wal_commit, m_wal.get());
}

void Database::auto_checkpoint(int pages) {
    sqlite3_wal_autocheckpoint(m_db, pages); // replaces the hook
    m_wal.reset();
}

Statement Database::prepare(std::string_view sql) {
    return Statement(m_db, m_path, sql);
}

int Database::schema_version() {
    Statement st(m_db, m_path, "PRAGMA user_version");
    return st.step() ? static_cast<int>(st.column_int(0)) : 0;
}

std::int64_t Database::last_insert_rowid() const {
    return sqlite3_last_insert_rowid(m_db);
}

void Database::begin_immediate() {
    using std::chrono::microseconds;
    const auto turn = std::clamp<Clock::duration>((m_committed - m_began) / 16, microseconds(200),
                                                  microseconds(2000));
    if (m_committed != Clock::time_point{})
        std::this_thread::sleep_until(m_committed + turn); // returns at once when it has passed
    exec("BEGIN IMMEDIATE");
    m_began = Clock::now();
}

void Database::commit() {
    exec("COMMIT");
    m_committed = Clock::now();
}

OpenOptions patient_writer(const core::Logger& log, const std::string& path) {
    OpenOptions options;
    options.on_busy = [&log, path, seconds = options.busy_timeout_ms / 1000.0](int periods) {
        if (periods == 1)
            log.warn("{}: busy for {:g} s (another writer); retrying", path, seconds);
        return !core::stop_requested();
    };
    return options;
}

// ---- Transaction ----

Transaction::Transaction(Database& db) : m_db(&db) {
    m_db->begin_immediate();
}

Transaction::~Transaction() {
    if (!m_done) {
        try {
            m_db->exec("ROLLBACK");
        } catch (...) { // NOLINT(bugprone-empty-catch): already unwinding from the real error
        }
    }
}

void Transaction::commit() {
    m_db->commit();
    m_done = true;
}

// ---- CheckpointConnection ----

CheckpointConnection::CheckpointConnection(const std::string& path, int busy_timeout_ms) noexcept
    : m_open(sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             nullptr) == SQLITE_OK) {
    if (m_open)
        sqlite3_busy_timeout(m_db, busy_timeout_ms);
}

CheckpointConnection::~CheckpointConnection() {
    sqlite3_close_v2(m_db);
}

int CheckpointConnection::checkpoint_passive() noexcept {
    if (!m_open)
        return -1;
    sqlite3_exec(m_db, "SELECT 1 FROM sqlite_master LIMIT 1", nullptr, nullptr, nullptr);
    int log = 0;
    const int rc =
        sqlite3_wal_checkpoint_v2(m_db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, nullptr);
    return rc == SQLITE_OK ? log : -1;
}

void CheckpointConnection::checkpoint_truncate() noexcept {
    if (m_open)
        sqlite3_wal_checkpoint_v2(m_db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
}

} // namespace iots::store
