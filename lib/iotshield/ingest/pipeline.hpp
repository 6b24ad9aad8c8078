#pragma once
// The part of iots-ingest both inputs share: parse and validate a record, store it, and pass it
// on. Output is held until the record's batch commits, so that a record seen downstream is already
// in the database (a tool that looks it up finds it); every commit flushes stdout.
//
// With a database the work is split over two threads. The caller's thread (the input) reads,
// parses, validates and serialises, and hands records over in chunks; a store thread inserts them,
// commits, writes the committed records to stdout and runs retention. Chunks come from a fixed
// pool, so a slow disk holds up the input (back-pressure) instead of filling memory. The store
// thread commits when the input paused and nothing else waits (group commit), when the batch is
// --batch-size readings or --batch-ms old, or when the records it holds for stdout reach
// kMaxHeldBytes.
//
// Storing comes first: when the reader of stdout goes away (EPIPE), the store thread warns once
// and goes on storing without passing records on; a reader that stalls holds it up.
#include "iotshield/ingest/ingest.hpp"
#include "iotshield/input/rejects.hpp"
#include "iotshield/record/parser.hpp"
#include "iotshield/record/serialize.hpp"
#include "iotshield/store/database.hpp"
#include "iotshield/store/reading_writer.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace iots::ingest {

// Where a record came from, for the one-line reason: `line 17: ...` or `topic a/b: ...`.
struct Origin {
    std::uint64_t line = 0;
    std::string_view topic{};        // empty for stdin
    std::string_view topic_device{}; // <prefix>/sensors/<device>/<sensor>: the record must agree
    std::string_view topic_sensor{};
    [[nodiscard]] input::Origin where() const noexcept { return {.line = line, .topic = topic}; }
};

// A chunk is handed over at kChunkReadings readings or kChunkBytes of their input, whichever comes
// first; the pool has kChunks (so at most that much is between the input and the database). The
// store thread commits when the records it holds for stdout reach kMaxHeldBytes.
inline constexpr std::size_t kChunkReadings = 512;
inline constexpr std::size_t kChunkBytes = std::size_t{256} << 10;
inline constexpr std::size_t kChunks = 8;
inline constexpr std::size_t kMaxHeldBytes = std::size_t{4} << 20;

class Pipeline {
public:
    // Opens the database (when options.db_path is set) and starts the store thread.
    Pipeline(const Options& options, const core::Logger& log, core::LineWriter& out);
    // Stops the store thread. What sync() did not wait for is rolled back, not committed.
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    // One reading's text, received at wall (the host's clock, epoch ms: its ts is judged against
    // it, and a wrong clock is stamped with it). Throws Error(bad_input) under --strict or past
    // --max-bad-lines, after committing what came before. May wait for room (back-pressure);
    // rethrows a failure of the store thread.
    void reading(std::string_view text, const Origin& origin, core::Millis now, core::Millis wall);
    // A reading another format's payload gave (adapt/), valid already: judged and kept as one
    // that was parsed.
    void adapted(const record::Reading& r, const Origin& origin, core::Millis now,
                 core::Millis wall);
    // A bad part of another format's payload: received, and rejected with reason.
    void bad(const Origin& origin, std::string_view reason);
    // A message that holds no reading (--format: a light's state, a bridge's news).
    void ignored() noexcept { ++m_counters.ignored; }
    // A record the input rejected itself (longer than --max-line-bytes): counted as received.
    void skipped() noexcept { ++m_counters.received; }
    // The reject policy of every record this pipeline sees (the inputs reject through it too); it
    // commits what came before a record that ends the tool.
    [[nodiscard]] input::Rejects& rejects() noexcept { return m_rejects; }
    // <prefix>/status/<device> with payload online/offline.
    void status(std::string_view device, std::string_view payload, const Origin& origin,
                core::Millis wall, core::Millis now);

    // Records received and not yet handed over for commit.
    [[nodiscard]] bool pending() const noexcept;
    // pending, and the oldest of them is batch_ms old.
    [[nodiscard]] bool due(core::Millis now) const noexcept;
    // When due() becomes true; nullopt when nothing is pending.
    [[nodiscard]] std::optional<core::Millis> deadline() const noexcept;
    // The input paused or a batch is due: hands everything over to be committed as soon as
    // nothing else waits, and passed on after that. Without a database, writes the records now.
    // Does not wait for the commit.
    void commit();
    // commit(), then waits until everything received so far is committed and passed on; rethrows
    // a failure of the store thread.
    void sync();
    // Rethrows a failure of the store thread (database or stdout), if there was one. Cheap.
    void check();
    // Readable once the store thread has failed (-1 without a database): wait on it beside the
    // input, then check().
    [[nodiscard]] int wake_fd() const noexcept;

    [[nodiscard]] Counters counters() const;
    void report_counters() const;

private:
    struct Store;
    struct Chunk;
    void reject(const Origin& origin, std::string_view reason);
    // The topic and the clock checks of a parsed reading; false when it was rejected.
    bool accept(record::Reading& r, const Origin& origin, core::Millis wall);
    // Where the next reading is read into: the open chunk's next entry, or m_reading.
    record::Reading& slot();
    // r (in slot()) judged, then kept for the batch; bytes: its input's size; canonical: its
    // input when that is its JSON as append_json writes it (record::Parser::canonical), else empty.
    void keep(record::Reading& r, const Origin& origin, core::Millis now, core::Millis wall,
              std::size_t bytes, std::string_view canonical = {});
    // Appends r's JSON to out: canonical as it is when r is unchanged since it was parsed from it.
    void append_record(const record::Reading& r, std::string_view canonical, bool unchanged,
                       std::string& out);
    Chunk& chunk();
    void hand_over(bool flush, bool sync);

    const Options& m_options;
    const core::Logger& m_log;
    core::LineWriter& m_out;
    record::Parser m_parser{record::ParseOptions{.allow_missing_ts = true}};
    // The records passed on: one writer, which keeps the text of the last ts (a node's readings
    // share it) instead of formatting it for each.
    record::JsonWriter m_json;
    input::Rejects m_rejects;
    Counters m_counters; // received, status (and stored without a database)
    // With a database: the chunk being filled, and whether chunks went over since the last flush.
    std::unique_ptr<Store> m_store;
    Chunk* m_chunk = nullptr;
    core::Millis m_chunk_since = 0;
    bool m_unflushed = false;
    std::uint64_t m_rejected_sent = 0; // of m_rejects.count(), to stats.rejected_readings
    // Without a database: the records of the open batch, '\n'-separated, for stdout.
    record::Reading m_reading;
    std::string m_held;
    std::size_t m_held_count = 0;
    core::Millis m_held_since = 0;
};

// Monotonic milliseconds, for batch deadlines.
[[nodiscard]] core::Millis monotonic_ms() noexcept;

} // namespace iots::ingest
