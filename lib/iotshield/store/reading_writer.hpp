#pragma once
// The batching writer of readings (DESIGN §4): one open transaction collects up to batch_size
// readings and is committed by count, by age (batch_ms) or when the caller sees the stream pause.
// Device, sensor and series ids are interned in memory; the dashboard's running counts (series
// count/first/last, devices.last_seen, stats) are updated in the same transaction as the rows.
// Idempotent (DESIGN §2, Identity): a re-delivered reading with the same (series, ts, seq), or
// without seq the same (series, ts, value), is counted as a duplicate and not stored twice, also
// when another connection stored it (two writers on one file, --share).
//
// Times passed in are the caller's monotonic clock (batching) or the wall clock (retention), so the
// policy is testable without sleeping.
#include "iotshield/core/time.hpp"
#include "iotshield/record/reading.hpp"
#include "iotshield/store/chunk_table.hpp"
#include "iotshield/store/database.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace iots::store {

struct WriterOptions {
    std::size_t batch_size = 100000;    // commit when this many readings are pending
    core::Millis batch_ms = 100;        // ... or when the oldest pending one is this old
    core::Millis retain_ms = 0;         // > 0: delete readings older than now - retain_ms
    core::Millis retain_minutes_ms = 0; // > 0: delete rollup_minute rows older than that
    core::Millis retain_hours_ms = 0;   // > 0: delete rollup_hour rows older than that
    // > 0: the disk budget: while the pages in use pass 90 % of it, each retention step deletes
    // the oldest raw readings (an hour of the series with the oldest) instead. Inserts never fail
    // for it: it only chooses what retention deletes.
    std::int64_t max_db_bytes = 0;
    std::size_t retain_batch = 5000;      // rows deleted per retention transaction
    core::Millis retain_every_ms = 60000; // pause between retention passes once caught up
    // Off: a pass deletes nothing while every stored reading is older than the cutoff (see
    // RetainStep::kept); on: it deletes them too (--retain-force).
    bool retain_force = false;
    // > 0: the hours of a series this long behind its newest reading are moved from readings into
    // reading_chunks (chunk_table.hpp), compact_batch rows per transaction (--compact-after).
    core::Millis compact_after_ms = 0;
    std::size_t compact_batch = 20000;
    core::Millis compact_every_ms = 60000; // pause between compaction passes once caught up
};

// What one retention step did.
struct RetainStep {
    bool more = false;         // old rows remain: call again soon
    core::Millis cutoff = 0;   // readings with a ts before it are old
    std::uint64_t deleted = 0; // rows this step deleted
    // > 0: nothing was deleted because every stored reading (this many, the newest at `newest`)
    // is older than the cutoff: history (simulated, replayed, or of a system down for longer than
    // retain_ms) that only retain_force deletes. Checked again at the next pass.
    std::uint64_t kept = 0;
    core::Millis newest = 0;
    // Raw retention: the estimated share (0..1) of the stored readings older than the cutoff,
    // known at the step that starts deleting them (for a warning before most history goes).
    bool share_known = false;
    double share = 0;
    std::uint64_t rollups_deleted = 0; // minute and hour rows deleted by this step
    std::uint64_t budget_deleted = 0;  // raw rows deleted for max_db_bytes (also in deleted)
    std::int64_t used_bytes = 0;       // the pages in use, when max_db_bytes is set
    std::uint64_t vacuumed_pages = 0;  // pages given back to the file system
};

struct WriterCounters {
    std::uint64_t stored = 0;     // new rows committed
    std::uint64_t duplicates = 0; // re-delivered readings ignored (in committed batches)
    std::uint64_t deleted = 0;    // rows removed by retention
    std::uint64_t compacted = 0;  // rows moved into reading_chunks
    std::uint64_t commits = 0;
};

enum class AddResult { stored, duplicate };

class ReadingWriter {
public:
    // The database must outlive the writer.
    explicit ReadingWriter(Database& db, WriterOptions options = {});
    // Rolls back what was not committed: call commit() first. Never throws.
    ~ReadingWriter();
    ReadingWriter(const ReadingWriter&) = delete;
    ReadingWriter& operator=(const ReadingWriter&) = delete;

    // Inserts into the open batch, beginning one if needed (now: monotonic ms, starts the batch's
    // age). The reading must be valid (record::Parser or record::validate). A reading whose key
    // is past the greatest key of its series (as this connection knows it, checked against other
    // writers by PRAGMA data_version at each BEGIN; without seq: past its ts) is new for sure: it
    // waits for a multi-row INSERT of up to 64 such rows, run when full, before any other
    // statement of the batch, or at commit. Any other reading (late, re-delivered, or seqless at
    // a ms already used) is inserted alone at once. On an error (Error, 74 on a full disk) the
    // whole open batch is rolled back.
    AddResult add(const record::Reading& r, core::Millis now);
    // devices.status/status_ts ("online"/"offline" from iotshield/status/<device>), batched too.
    void set_status(std::string_view device, std::string_view status, core::Millis ts,
                    core::Millis now);
    // Adds delta to stats(key) with the next commit (e.g. "rejected_readings").
    void add_stat(std::string_view key, std::int64_t delta);

    // Readings and status updates in the open batch.
    [[nodiscard]] std::size_t pending() const noexcept;
    // When the open batch must be committed at the latest; nullopt when nothing is pending.
    [[nodiscard]] std::optional<core::Millis> deadline() const noexcept;
    // pending and (full or past its deadline).
    [[nodiscard]] bool due(core::Millis now) const noexcept;
    // Commits the open batch (no-op when none). Throws Error (74 on a full disk).
    void commit();

    // One retention step when due at wall-clock `now`: commits the open batch, then in its own
    // transaction deletes at most retain_batch old rows of one tier (raw first, or the oldest
    // raw rows when over max_db_bytes; then minutes, hours), or vacuums freed pages. more is true
    // while there is more to do (call again soon), false when caught up, not due or off.
    RetainStep retain(core::Millis now);

    // One compaction step when due at wall-clock `now` (compact_after_ms > 0): commits the open
    // batch, then moves up to compact_batch settled readings into chunks in their own transaction.
    // more is true while settled hours remain.
    CompactStep compact(core::Millis now);

    [[nodiscard]] const WriterCounters& counters() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace iots::store
