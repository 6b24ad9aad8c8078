#include "iotshield/ingest/pipeline.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/core/thread_priority.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/record/clock.hpp"
#include "iotshield/record/sensor.hpp"
#include "iotshield/record/serialize.hpp"
#include "iotshield/store/checkpointer.hpp"

#include <fmt/format.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace iots::ingest {

core::Millis monotonic_ms() noexcept {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

namespace {

constexpr std::size_t kWriteBytes = 64 * 1024;

// One record handed to the store thread.
struct Entry {
    enum class Kind : std::uint8_t { reading, status };
    Kind kind = Kind::reading;
    core::Millis now = 0;     // monotonic, when it arrived: the age of its batch
    core::Millis wall = 0;    // status: its time
    record::Reading reading;  // status: the device, and the payload in label
    std::size_t text_end = 0; // its JSON in Chunk::text ends here (and starts where the last ended)
};

} // namespace

struct Pipeline::Chunk {
    std::vector<Entry> entries = std::vector<Entry>(kChunkReadings); // kept, for their buffers
    std::size_t size = 0;
    std::string text;      // the JSON of the readings, back to back; empty under --quiet
    std::size_t bytes = 0; // input bytes of the readings: handed over at kChunkBytes
    std::uint64_t rejected = 0;
    bool flush = false; // the input paused: commit once nothing else waits
    bool sync = false;  // commit, then tell the input thread
    [[nodiscard]] bool full() const noexcept {
        return size == kChunkReadings || bytes >= kChunkBytes;
    }
    void clear() noexcept {
        // Unknown members can be as long as a line: do not keep a rare huge one's buffer.
        for (std::size_t i = 0; i < size; ++i)
            if (entries[i].reading.extra.capacity() > 4096)
                std::string().swap(entries[i].reading.extra);
        if (text.capacity() > 2 * kChunkBytes)
            std::string().swap(text);
        size = 0;
        bytes = 0;
        text.clear();
        rejected = 0;
        flush = sync = false;
    }
};

// The store thread and what it shares with the input thread (under mutex).
struct Pipeline::Store {
    const Options& options;
    const core::Logger& log;
    core::LineWriter& out;
    // Records go to stdout until its reader goes away (EPIPE); storing goes on regardless.
    bool passing;
    store::Database db;
    store::ReadingWriter writer;
    store::Checkpointer checkpointer; // not in the commit that releases the records to stdout
    std::string held; // stored records wait here for their commit, each '\n'-terminated
    bool behind = false;
    std::uint64_t pass_deleted = 0; // by the retention pass under way, said when it ends
    core::Millis pass_cutoff = 0;
    bool warned_kept = false;   // the history older than --retain: said once
    bool budget_warned = false; // --max-db-size trimming: said once per pass

    std::mutex mutex;
    std::condition_variable work; // to the store thread: a chunk, or stop
    std::condition_variable room; // to the input thread: a free chunk, a sync done, a failure
    std::vector<std::unique_ptr<Chunk>> pool;
    std::vector<Chunk*> free;
    std::deque<Chunk*> full;
    std::uint64_t syncs_asked = 0, syncs_done = 0;
    bool stopping = false;
    std::exception_ptr error;
    std::atomic<bool> failed{false};
    store::WriterCounters committed; // a copy after each commit, for the counters
    int wake = -1;                   // eventfd, written once on failure
    // A stop while the reader of stdout does not read: the input thread sets give_up_output and
    // interrupts the store thread's write (see wait()), which then drops what it could not write.
    std::atomic<bool> give_up_output{false};
    std::atomic<bool> writing{false};      // the store thread is in write_held()
    std::atomic<std::uint64_t> written{0}; // writes done, to tell a slow reader from a stalled one
    std::thread thread;

    Store(const Options& o, const core::Logger& logger, core::LineWriter& output)
        : options(o), log(logger), out(output), passing(!o.quiet),
          db(o.db_path, store::patient_writer(logger, o.db_path)), writer(db, o.writer),
          checkpointer(db) {
        pool.reserve(kChunks);
        for (std::size_t i = 0; i < kChunks; ++i) {
            pool.push_back(std::make_unique<Chunk>());
            free.push_back(pool.back().get());
        }
        if (!o.quiet)
            held.reserve(kMaxHeldBytes + kWriteBytes); // touched (resident) only as it fills
        out.give_up_when(&give_up_output);
        wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wake < 0)
            throw Error(Exit::failure, std::string("eventfd: ") + std::strerror(errno));
        // SIGINT, SIGTERM and SIGUSR1 must interrupt the input thread's read or poll (DESIGN §5):
        // the store thread starts with them blocked, so the kernel never picks it.
        sigset_t block, old;
        sigemptyset(&block);
        for (int sig : {SIGINT, SIGTERM, SIGUSR1, SIGHUP, SIGQUIT, SIGPIPE})
            sigaddset(&block, sig);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        try {
            thread = std::thread([this] { run(); });
        } catch (...) {
            pthread_sigmask(SIG_SETMASK, &old, nullptr);
            ::close(wake);
            throw;
        }
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
    }

    ~Store() {
        {
            std::lock_guard lock(mutex);
            stopping = true;
        }
        work.notify_all();
        thread.join();
        out.give_up_when(nullptr);
        ::close(wake);
    }
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // Retention (any tier, the disk budget) or compaction (--compact-after): both run in small
    // steps between batches.
    [[nodiscard]] bool retention() const noexcept {
        const store::WriterOptions& w = options.writer;
        return w.retain_ms > 0 || w.retain_minutes_ms > 0 || w.retain_hours_ms > 0 ||
               w.max_db_bytes > 0 || w.compact_after_ms > 0;
    }

    // The input thread waits for pred (under lock). Once a stop was asked (SIGINT, SIGTERM), a
    // store thread that has written nothing to stdout for 200 ms is stuck on a reader that stopped
    // reading: it is told to give its output up, so that it commits and the tool can end.
    template <typename Pred> void wait(std::unique_lock<std::mutex>& lock, Pred pred) {
        std::uint64_t seen = written.load();
        while (!room.wait_for(lock, std::chrono::milliseconds(200), pred)) {
            const std::uint64_t now = written.load();
            if (core::stop_requested() && writing.load() && now == seen) {
                give_up_output = true;
                pthread_kill(thread.native_handle(), core::interrupt_signal());
            }
            seen = now;
        }
    }

    void run() noexcept {
        // Passing nothing on (--quiet, the broker deployment), nothing on an alarm's path waits
        // for this thread: it yields the CPU to the broker and the tools the alarm goes through.
        // Passing records on, it is that path (iots-ingest | iots-detect | iots-alert).
        if (!passing)
            core::make_background_thread();
        try {
            loop();
            end_pass(); // stopped with a pass under way
        } catch (...) {
            {
                std::lock_guard lock(mutex);
                error = std::current_exception();
                failed = true;
            }
            room.notify_all();
            const std::uint64_t one = 1;
            [[maybe_unused]] const auto n = ::write(wake, &one, sizeof one);
        }
    }

    // Takes the next chunk; nullptr when a batch deadline or a retention step is due first;
    // returns false to stop.
    bool next(Chunk*& chunk) {
        chunk = nullptr;
        std::unique_lock lock(mutex);
        for (;;) {
            if (stopping)
                return false;
            if (!full.empty()) {
                chunk = full.front();
                full.pop_front();
                return true;
            }
            if (const auto deadline = writer.deadline()) {
                const core::Millis left = *deadline - monotonic_ms();
                if (left <= 0)
                    return true;
                work.wait_for(lock, std::chrono::milliseconds(left));
            } else if (retention()) {
                if (behind)
                    return true;
                work.wait_for(lock, std::chrono::milliseconds(std::clamp<core::Millis>(
                                        options.writer.retain_every_ms, 10, 60000)));
                if (full.empty() && !stopping)
                    return true; // time for a retention pass
            } else {
                work.wait(lock);
            }
        }
    }

    void loop() {
        Chunk* chunk = nullptr;
        while (next(chunk)) {
            if (chunk == nullptr) {
                if (writer.pending() > 0)
                    commit(); // the batch is batch_ms old
                else if (retention())
                    retain();
                continue;
            }
            take(*chunk);
            bool more = false;
            {
                std::lock_guard lock(mutex);
                more = !full.empty();
            }
            // Group commit: a pause of the input commits, unless more is already queued (then
            // the batch grows and the next pause, count or deadline commits it).
            if (chunk->sync || (chunk->flush && !more))
                commit();
            const bool synced = chunk->sync;
            chunk->clear();
            {
                std::lock_guard lock(mutex);
                free.push_back(chunk);
                if (synced)
                    ++syncs_done;
            }
            room.notify_all();
        }
    }

    void take(Chunk& c) {
        // A batch's age counts from when this thread opened it, not from when its first record
        // arrived: behind a backlog older than batch_ms, every batch would be due at once.
        const core::Millis now = monotonic_ms();
        std::size_t text_at = 0;
        for (std::size_t i = 0; i < c.size; ++i) {
            Entry& e = c.entries[i];
            if (e.kind == Entry::Kind::reading) {
                if (writer.add(e.reading, now) == store::AddResult::stored && passing) {
                    held.append(c.text, text_at, e.text_end - text_at);
                    held.push_back('\n');
                }
            } else {
                writer.set_status(e.reading.device, e.reading.label, e.wall, now);
            }
            text_at = e.text_end;
            if (writer.due(now) || held.size() >= kMaxHeldBytes)
                commit();
        }
        if (c.rejected > 0)
            writer.add_stat("rejected_readings", static_cast<std::int64_t>(c.rejected));
    }

    // Commits the batch, then writes its records to stdout in one flushed write.
    void commit() {
        writer.commit();
        publish();
        write_held();
        // Retention interleaves with the stream: one small step per commit while behind.
        if (retention())
            retain();
    }

    // The committed records, '\n'-terminated, in writes of about kWriteBytes (whole lines), so
    // that the LineWriter never holds a second copy of a large batch. Storing is ingest's first
    // job: when the reader of stdout goes away, the records are no longer passed on, and that is
    // said once.
    void write_held() {
        const std::string_view all(held);
        std::size_t at = 0;
        writing = true;
        try {
            while (at < all.size()) {
                std::size_t end = all.size();
                if (end - at > kWriteBytes)
                    if (const auto nl = all.rfind('\n', at + kWriteBytes);
                        nl != std::string_view::npos && nl >= at)
                        end = nl + 1;
                out.write_lines(all.substr(at, end - at)); // written from held, not copied
                written.fetch_add(1);
                at = end;
            }
        } catch (const OutputStalled&) {
            passing = false;
            log.warn("stdout is not being read; stopping without passing the last records on");
        } catch (const OutputClosed&) {
            passing = false;
            log.warn("stdout closed; storing without passing records on");
        }
        writing = false;
        held.clear();
    }

    void retain() {
        const core::Millis now = core::now_millis();
        const store::RetainStep step = writer.retain(now);
        const store::CompactStep compacted = writer.compact(now);
        behind = step.more || compacted.more;
        publish();
        if (step.share_known && step.share >= 0.5 && pass_deleted == 0 && step.deleted > 0 &&
            !options.writer.retain_force)
            log.warn("--retain-raw: deleting about {:.0f}% of the stored readings (older than "
                     "{}), a few thousand at a time",
                     step.share * 100, core::format_rfc3339(step.cutoff));
        if (step.budget_deleted > 0 && !budget_warned) {
            budget_warned = true;
            log.warn("--max-db-size: the database uses {} MB of {} MB: deleting the oldest raw "
                     "readings",
                     step.used_bytes / 1000000, options.writer.max_db_bytes / 1000000);
        }
        if (step.deleted > 0) {
            pass_deleted += step.deleted;
            if (step.budget_deleted == 0)
                pass_cutoff = step.cutoff;
        }
        if (!step.more)
            end_pass();
        if (step.kept > 0 && !warned_kept) {
            warned_kept = true;
            if (!options.retain_explicit) // the default tiers: said with -v only
                log.debug("retention: all {} stored readings are older than {} (simulated or "
                          "replayed history?): none deleted",
                          step.kept, core::format_rfc3339(step.cutoff));
            else
                log.warn(
                    "--retain: all {} stored readings are older than {}, the newest from {} "
                    "(simulated or replayed history?): none deleted; --retain-force deletes them",
                    step.kept, core::format_rfc3339(step.cutoff),
                    core::format_rfc3339(step.newest));
        }
    }

    void end_pass() {
        budget_warned = false;
        if (pass_deleted == 0)
            return;
        if (pass_cutoff > 0)
            log.info("retention deleted {} readings older than {}", pass_deleted,
                     core::format_rfc3339(pass_cutoff));
        else
            log.info("retention deleted {} readings (the oldest, for --max-db-size)", pass_deleted);
        pass_deleted = 0;
        pass_cutoff = 0;
    }

    void publish() {
        std::lock_guard lock(mutex);
        committed = writer.counters();
    }
};

Pipeline::Pipeline(const Options& options, const core::Logger& log, core::LineWriter& out)
    : m_options(options), m_log(log), m_out(out), m_rejects(options.input, log) {
    m_rejects.before_exit([this] { sync(); });
    if (!options.db_path.empty())
        m_store = std::make_unique<Store>(options, log, out);
    else
        m_held.reserve(1 << 16);
}

Pipeline::~Pipeline() = default;

Pipeline::Chunk& Pipeline::chunk() {
    if (m_chunk != nullptr)
        return *m_chunk;
    Store& s = *m_store;
    std::unique_lock lock(s.mutex);
    s.wait(lock, [&s] { return !s.free.empty() || s.error; });
    if (s.error)
        std::rethrow_exception(s.error);
    m_chunk = s.free.back();
    s.free.pop_back();
    return *m_chunk;
}

void Pipeline::hand_over(bool flush, bool sync) {
    Chunk& c = chunk();
    c.rejected += m_rejects.count() - std::exchange(m_rejected_sent, m_rejects.count());
    c.flush = flush;
    c.sync = sync;
    Store& s = *m_store;
    {
        std::lock_guard lock(s.mutex);
        s.full.push_back(&c);
        if (sync)
            ++s.syncs_asked;
    }
    s.work.notify_one();
    m_chunk = nullptr;
    m_unflushed = !flush;
}

// Counted (stats.rejected_readings with the next commit) and said by the one reject policy.
void Pipeline::reject(const Origin& origin, std::string_view reason) {
    m_rejects.reject(origin.where(), reason);
}

bool Pipeline::accept(record::Reading& r, const Origin& origin, core::Millis wall) {
    if (!origin.topic_device.empty() &&
        (r.device != origin.topic_device || r.sensor != origin.topic_sensor)) {
        reject(origin, fmt::format("device \"{}\" and sensor \"{}\" do not match the topic",
                                   r.device, r.sensor));
        return false;
    }
    if (r.ts == record::kMissingTs) { // a node whose clock has not synced yet (iotshield(7))
        const std::string why = record::stamp_missing_ts(r, wall);
        if (!why.empty()) {
            reject(origin, "missing ts, " + why);
            return false;
        }
        ++m_counters.stamped;
        return true;
    }
    auto clock = record::judge_clock(r.ts, wall, m_options.clock);
    if (clock.action == record::ClockAction::accept)
        return true;
    if (clock.action == record::ClockAction::stamp) {
        const std::string why = record::stamp_on_receipt(r, wall);
        if (why.empty()) {
            ++m_counters.stamped;
            return true;
        }
        clock.reason += ", " + why;
    }
    reject(origin, clock.reason);
    return false;
}

record::Reading& Pipeline::slot() {
    if (!m_store)
        return m_reading;
    Chunk& c = chunk();
    return c.entries[c.size].reading;
}

void Pipeline::reading(std::string_view text, const Origin& origin, core::Millis now,
                       core::Millis wall) {
    ++m_counters.received;
    record::Reading& r = slot();
    if (!m_parser.parse(text, r))
        return reject(origin, m_parser.error());
    keep(r, origin, now, wall, text.size(), m_parser.canonical() ? text : std::string_view());
}

void Pipeline::adapted(const record::Reading& from, const Origin& origin, core::Millis now,
                       core::Millis wall) {
    ++m_counters.received;
    record::Reading& r = slot();
    r = from;
    keep(r, origin, now, wall, from.device.size() + from.sensor.size() + 64);
}

void Pipeline::bad(const Origin& origin, std::string_view reason) {
    ++m_counters.received;
    reject(origin, reason);
}

void Pipeline::append_record(const record::Reading& r, std::string_view canonical, bool unchanged,
                             std::string& out) {
    if (unchanged && !canonical.empty())
        out.append(canonical);
    else
        m_json.append(r, out);
}

void Pipeline::keep(record::Reading& r, const Origin& origin, core::Millis now, core::Millis wall,
                    std::size_t bytes, std::string_view canonical) {
    const std::uint64_t stamped = m_counters.stamped;
    if (!accept(r, origin, wall))
        return;
    // Stamped or changed by the privacy policy: written anew, not passed on as it came.
    const bool unchanged = m_counters.stamped == stamped && m_options.privacy.empty();
    // The privacy policy, on the reading as judged: before it is stored or passed on.
    if (!m_options.privacy.apply(r)) {
        ++m_counters.dropped;
        return;
    }
    if (!m_store) {
        ++m_counters.stored; // nothing to store: counted as accepted
        if (m_options.quiet)
            return;
        if (m_held_count == 0)
            m_held_since = now;
        if (!m_held.empty())
            m_held.push_back('\n');
        append_record(r, canonical, unchanged, m_held);
        ++m_held_count;
        return;
    }
    Chunk& c = chunk(); // the one slot() gave r in
    Entry& e = c.entries[c.size];
    e.kind = Entry::Kind::reading;
    if (!m_options.quiet)
        append_record(e.reading, canonical, unchanged, c.text);
    e.text_end = c.text.size();
    c.bytes += bytes;
    if (c.size++ == 0)
        m_chunk_since = now;
    if (c.full())
        hand_over(false, false);
}

void Pipeline::status(std::string_view device, std::string_view payload, const Origin& origin,
                      core::Millis wall, core::Millis now) {
    if (!record::valid_name(device))
        return reject(origin, "status: device must be 1-64 characters of A-Z a-z 0-9 _ . -");
    if (payload != "online" && payload != "offline")
        return reject(origin, "status: expected online or offline");
    ++m_counters.status;
    if (!m_store)
        return;
    Chunk& c = chunk();
    Entry& e = c.entries[c.size];
    e.kind = Entry::Kind::status;
    e.wall = wall;
    e.reading.device = device;
    e.reading.label = payload;
    e.text_end = c.text.size();
    if (c.size++ == 0)
        m_chunk_since = now;
    if (c.full())
        hand_over(false, false);
}

bool Pipeline::pending() const noexcept {
    if (!m_store)
        return m_held_count > 0;
    return (m_chunk != nullptr && m_chunk->size > 0) || m_unflushed;
}

std::optional<core::Millis> Pipeline::deadline() const noexcept {
    if (!m_store) {
        if (m_held_count > 0)
            return m_held_since + m_options.writer.batch_ms;
        return std::nullopt;
    }
    if (m_chunk != nullptr && m_chunk->size > 0)
        return m_chunk_since + m_options.writer.batch_ms;
    return std::nullopt;
}

bool Pipeline::due(core::Millis now) const noexcept {
    if (!m_store)
        return m_held_count > 0 && (m_held_count >= m_options.writer.batch_size ||
                                    now >= m_held_since + m_options.writer.batch_ms);
    const auto d = deadline();
    return d && now >= *d;
}

void Pipeline::commit() {
    if (m_store) {
        if (pending())
            hand_over(true, false);
        return;
    }
    if (m_held_count > 0) {
        m_held_count = 0;
        m_out.write_line(m_held); // one write(2) for the batch, '\n' appended
        m_held.clear();
    }
}

void Pipeline::sync() {
    if (!m_store)
        return commit();
    hand_over(true, true);
    Store& s = *m_store;
    std::unique_lock lock(s.mutex);
    const std::uint64_t ticket = s.syncs_asked;
    s.wait(lock, [&s, ticket] { return s.syncs_done >= ticket || s.error; });
    if (s.error)
        std::rethrow_exception(s.error);
}

void Pipeline::check() {
    if (m_store && m_store->failed.load(std::memory_order_relaxed)) {
        std::lock_guard lock(m_store->mutex);
        std::rethrow_exception(m_store->error);
    }
}

int Pipeline::wake_fd() const noexcept {
    return m_store ? m_store->wake : -1;
}

Counters Pipeline::counters() const {
    Counters c = m_counters;
    c.rejected = m_rejects.count();
    if (m_store) {
        std::lock_guard lock(m_store->mutex);
        c.stored = m_store->committed.stored;
        c.duplicates = m_store->committed.duplicates;
        c.commits = m_store->committed.commits;
        c.deleted = m_store->committed.deleted;
    }
    return c;
}

void Pipeline::report_counters() const {
    const Counters c = counters();
    m_log.info("{}", format_counters(c));
    m_log.debug("{} commits, {} old readings deleted", c.commits, c.deleted);
}

} // namespace iots::ingest
