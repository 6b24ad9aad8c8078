#pragma once
// The part of iots-ingest both inputs share: parse and validate a record, store it in the open
// batch, and pass it on. Output is held until the batch commits, so that a record seen downstream
// is already in the database (a tool that looks it up finds it); every commit flushes stdout.
#include "iotshield/ingest/ingest.hpp"
#include "iotshield/record/parser.hpp"
#include "iotshield/store/database.hpp"
#include "iotshield/store/reading_writer.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace iots::ingest {

// Where a record came from, for the one-line reason: `line 17: ...` or `topic a/b: ...`.
struct Origin {
    std::uint64_t line = 0;
    std::string_view topic{};        // empty for stdin
    std::string_view topic_device{}; // <prefix>/sensors/<device>/<sensor>: the record must agree
    std::string_view topic_sensor{};
};

class Pipeline {
public:
    Pipeline(const Options& options, const core::Logger& log, core::LineWriter& out);
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    // One reading's text. Throws Error(bad_input) under --strict or past --max-bad-lines, after
    // committing what came before.
    void reading(std::string_view text, const Origin& origin, core::Millis now);
    // A line longer than --max-line-bytes (already skipped by the reader).
    void too_long(const Origin& origin);
    // <prefix>/status/<device> with payload online/offline.
    void status(std::string_view device, std::string_view payload, const Origin& origin,
                core::Millis wall, core::Millis now);

    [[nodiscard]] bool pending() const noexcept;
    [[nodiscard]] bool due(core::Millis now) const noexcept;
    [[nodiscard]] std::optional<core::Millis> deadline() const noexcept;
    // Commits the batch, then writes its records to stdout in one flushed write.
    void commit();
    // A retention step when due (wall clock); true while old rows remain.
    bool maintain(core::Millis wall);

    [[nodiscard]] Counters counters() const noexcept;
    void report_counters() const;

private:
    void reject(const Origin& origin, std::string_view reason);

    const Options& m_options;
    const core::Logger& m_log;
    core::LineWriter& m_out;
    std::unique_ptr<store::Database> m_db;
    std::unique_ptr<store::ReadingWriter> m_writer;
    record::Parser m_parser;
    record::Reading m_reading;
    std::string m_held; // records of the open batch, '\n'-separated, for stdout
    std::size_t m_held_count = 0;
    core::Millis m_held_since = 0;
    Counters m_counters;
};

// Monotonic milliseconds, for batch deadlines.
[[nodiscard]] core::Millis monotonic_ms() noexcept;

} // namespace iots::ingest
