#include "iotshield/alert/writer.hpp"

#include "iotshield/core/thread_priority.hpp"

namespace iots::alert {

AlertWriter::AlertWriter(std::unique_ptr<store::Database> db, std::size_t capacity)
    : m_db(std::move(db)), m_store(*m_db), m_capacity(capacity == 0 ? 1 : capacity) {
    m_queue.reserve(m_capacity);
    m_thread = std::thread([this] { run(); });
}

AlertWriter::~AlertWriter() {
    try {
        finish();
    } catch (...) { // reported by an explicit finish(); a destructor must not throw
    }
}

void AlertWriter::rethrow_locked() {
    if (m_error)
        std::rethrow_exception(m_error);
}

void AlertWriter::push(Op op) {
    {
        std::unique_lock lock(m_mutex);
        rethrow_locked();
        if (m_queue.size() >= m_capacity) {
            ++m_counters.waits;
            m_space.wait(lock, [this] { return m_error || m_queue.size() < m_capacity; });
            rethrow_locked();
        }
        m_queue.push_back(std::move(op));
        ++m_handed;
    }
    m_work.notify_one();
}

void AlertWriter::insert(store::AlertRow row, bool resolve_incident) {
    push(Op{Op::Kind::insert, resolve_incident, std::move(row)});
}

void AlertWriter::update_text(store::AlertRow row) {
    push(Op{Op::Kind::update, false, std::move(row)});
}

void AlertWriter::flush() {
    std::unique_lock lock(m_mutex);
    const std::uint64_t target = m_handed;
    m_space.wait(lock, [&] { return m_error || m_committed >= target || !m_thread.joinable(); });
    rethrow_locked();
}

void AlertWriter::finish() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_work.notify_one();
    if (m_thread.joinable())
        m_thread.join(); // the thread commits what is queued before it ends
    std::lock_guard lock(m_mutex);
    rethrow_locked();
}

WriterCounters AlertWriter::counters() const {
    std::lock_guard lock(m_mutex);
    return m_counters;
}

void AlertWriter::run() {
    // The alert went out before its row was handed here: commits yield the CPU to the next one.
    core::make_background_thread();
    std::vector<Op> batch;
    batch.reserve(m_capacity);
    for (;;) {
        {
            std::unique_lock lock(m_mutex);
            m_work.wait(lock, [this] { return m_stop || !m_queue.empty(); });
            if (m_queue.empty())
                return; // stopping, and everything is committed
            batch.swap(m_queue);
        }
        m_space.notify_all();
        try {
            store::Transaction tx(*m_db);
            for (const Op& op : batch) {
                if (op.kind == Op::Kind::update) {
                    m_store.update_text(op.row);
                    continue;
                }
                m_store.insert(op.row);
                if (op.resolve_incident) // by the alerts_by_incident index
                    m_store.resolve_incident(op.row.incident, op.row.ts);
            }
            tx.commit();
        } catch (...) {
            std::lock_guard lock(m_mutex);
            m_error = std::current_exception();
            m_space.notify_all();
            return;
        }
        {
            std::lock_guard lock(m_mutex);
            m_committed += batch.size();
            m_counters.rows += batch.size();
            ++m_counters.commits;
        }
        batch.clear();
        m_space.notify_all();
    }
}

} // namespace iots::alert
