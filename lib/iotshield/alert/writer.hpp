#pragma once
// Database writes off the alert path. The loop hands each alert row to a thread that commits
// whatever has queued up in one transaction (group commit), so a commit or a WAL checkpoint never
// delays the next alert. Bounded: when the queue is full the caller waits (back-pressure, nothing
// is dropped). Rows are written in the order they were handed over (an update after its insert).
// A database error stops the thread; the caller gets it (rethrown) on its next call or finish().
#include "iotshield/store/alerts.hpp"
#include "iotshield/store/database.hpp"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace iots::alert {

struct WriterCounters {
    std::uint64_t rows = 0;    // inserts and updates committed
    std::uint64_t commits = 0; // transactions
    std::uint64_t waits = 0;   // times the caller waited for room in the queue
};

class AlertWriter {
public:
    // Takes the open database (opened by the caller, so a bad path fails at start).
    explicit AlertWriter(std::unique_ptr<store::Database> db, std::size_t capacity = 4096);
    ~AlertWriter(); // finish(), errors swallowed: call finish() to see them
    AlertWriter(const AlertWriter&) = delete;
    AlertWriter& operator=(const AlertWriter&) = delete;

    // A new alert; resolve_incident: also mark the incident's earlier alerts resolved.
    void insert(store::AlertRow row, bool resolve_incident = false);
    // A later text for an alert already handed over.
    void update_text(store::AlertRow row);
    // Waits until everything handed over so far is committed; rethrows a database error.
    void flush();
    // flush(), then stops and joins the thread. Idempotent.
    void finish();
    [[nodiscard]] WriterCounters counters() const;

private:
    struct Op {
        enum class Kind { insert, update } kind = Kind::insert;
        bool resolve_incident = false;
        store::AlertRow row;
    };
    void push(Op op);
    void run();
    void rethrow_locked();

    std::unique_ptr<store::Database> m_db;
    store::AlertStore m_store; // used by the thread only, after construction
    std::size_t m_capacity;
    mutable std::mutex m_mutex;
    std::condition_variable m_work;  // to the thread: ops queued or stop
    std::condition_variable m_space; // to callers: room in the queue, a batch committed, an error
    std::vector<Op> m_queue;
    std::uint64_t m_handed = 0;    // ops handed over
    std::uint64_t m_committed = 0; // ops committed
    bool m_stop = false;
    std::exception_ptr m_error;
    WriterCounters m_counters;
    std::thread m_thread;
};

} // namespace iots::alert
