#pragma once
// WAL checkpoints of one writing connection, run on a thread of their own with a connection of
// their own. SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past 1000
// pages: copying the pages back and two fsyncs, several milliseconds on a disk, before the commit
// returns. A writer whose commits gate what it passes on (iots-ingest writes a record to stdout
// only once it is committed) would hold every record of that moment, a fire alarm among them.
// With a Checkpointer the commit only counts WAL pages; a PASSIVE checkpoint, which never blocks
// the writer, then runs beside it.
#include "iotshield/store/database.hpp"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace iots::store {

class Checkpointer {
public:
    // Replaces `writer`'s automatic checkpoint (at `pages` WAL pages, SQLite's default 1000).
    // `writer` must outlive this. An in-memory database needs none: nothing happens then.
    explicit Checkpointer(Database& writer, int pages = 1000);
    // Stops the thread; the writer goes back to SQLite's automatic checkpoint.
    ~Checkpointer();
    Checkpointer(const Checkpointer&) = delete;
    Checkpointer& operator=(const Checkpointer&) = delete;

    // Checkpoints run so far (for tests and counters).
    [[nodiscard]] std::uint64_t checkpoints() const;
    // Waits until no checkpoint is asked for or running.
    void wait_idle();

private:
    static void on_commit(void* self, int pages);
    void run();

    Database& m_writer;
    int m_pages;
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    bool m_due = false;
    bool m_busy = false;
    bool m_stop = false;
    std::uint64_t m_done = 0;
    std::thread m_thread;
};

} // namespace iots::store
