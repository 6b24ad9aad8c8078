#include "iotshield/store/checkpointer.hpp"

#include "iotshield/core/thread_priority.hpp"

#include <pthread.h>

#include <csignal>

namespace iots::store {

namespace {
// The WAL is emptied past this many times the checkpoint threshold (1000 pages: 64 MiB of 4 KiB
// pages), by a checkpoint that holds the writers for at most about kTruncateWaitMs.
constexpr int kTruncateFactor = 16;
constexpr int kTruncateWaitMs = 100;
} // namespace

Checkpointer::Checkpointer(Database& writer, int pages) : m_writer(writer), m_pages(pages) {
    if (writer.path().empty() || writer.path() == ":memory:")
        return;
    // With every signal blocked, so that SIGINT, SIGTERM and SIGUSR1 go to a thread whose read or
    // poll they must interrupt (DESIGN §5), never to this one.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    try {
        m_thread = std::thread([this] { run(); });
    } catch (...) {
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        throw;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    m_writer.set_wal_hook(&Checkpointer::on_commit, this);
}

Checkpointer::~Checkpointer() {
    if (!m_thread.joinable())
        return;
    m_writer.auto_checkpoint(m_pages); // SQLite's own hook again
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_changed.notify_all();
    m_thread.join();
}

// On the writer's thread, after each commit: never blocks on the checkpoint.
void Checkpointer::on_commit(void* self, int pages) {
    auto* c = static_cast<Checkpointer*>(self);
    if (pages < c->m_pages)
        return;
    {
        std::lock_guard lock(c->m_mutex);
        c->m_due = true;
    }
    c->m_changed.notify_all();
}

void Checkpointer::run() {
    // Nobody waits for a checkpoint: it yields the CPU to the threads an alarm goes through.
    core::make_background_thread();
    // Its own connection: a checkpoint on the writer's would run on the writer's thread.
    CheckpointConnection db(m_writer.path(), kTruncateWaitMs);
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_changed.wait(lock, [this] { return m_due || m_stop; });
        if (m_stop)
            break;
        m_due = false;
        m_busy = true;
        lock.unlock();
        // PASSIVE: copies what no reader still needs, without waiting for anyone; what it leaves
        // is taken by the next one. Failures (a busy file) are retried at the next threshold.
        const int log = db.checkpoint_passive();
        // SQLite restarts the WAL from its start only when every frame is checkpointed as a
        // write transaction begins. Writers that keep committing while the checkpoint runs
        // (iots-ingest, iots-detect and iots-alert on one file) can keep that from ever
        // happening: the WAL, and its index mapped into every process, grow without end.
        // Past kTruncateFactor times the threshold, TRUNCATE takes the write lock between two
        // commits, waits (at most kTruncateWaitMs) for readers of old frames, and empties it.
        if (log >= m_pages * kTruncateFactor)
            db.checkpoint_truncate();
        lock.lock();
        m_busy = false;
        ++m_done;
        m_changed.notify_all();
    }
}

std::uint64_t Checkpointer::checkpoints() const {
    std::lock_guard lock(m_mutex);
    return m_done;
}

void Checkpointer::wait_idle() {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [this] { return (!m_due && !m_busy) || !m_thread.joinable(); });
}

} // namespace iots::store
