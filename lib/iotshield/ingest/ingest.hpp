#pragma once
// iots-ingest: NDJSON from stdin or MQTT, validated, stored in batches, passed on (DESIGN §1-4).
// The tool's main only parses options into Options and calls run().
#include "iotshield/adapt/adapter.hpp"
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/core/output.hpp"
#include "iotshield/core/reject_policy.hpp"
#include "iotshield/ingest/privacy_policy.hpp"
#include "iotshield/record/clock.hpp"
#include "iotshield/store/reading_writer.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iots::ingest {

struct Options {
    std::string db_path;             // empty: validate and pass on only, store nothing
    core::BrokerOptions broker;      // host empty: read stdin
    std::vector<std::string> topics; // -t filters; empty: the format's (adapt::subscriptions)
    adapt::Options adapt;            // --format (default iotshield), --utc-offset
    core::RejectPolicy input;        // --strict, --max-bad-lines, --max-line-bytes
    bool quiet = false;              // nothing on stdout
    record::ClockPolicy clock;       // a ts before 2000 or too far ahead: rejected, or stamped
    PrivacyPolicy privacy;           // --privacy-policy: applied before storing and passing on
    store::WriterOptions writer;
    // A retention option was given (not the default tiers): history older than all of it, kept,
    // is then a warning rather than an info line.
    bool retain_explicit = false;
    std::size_t queue_messages = 1024; // MQTT -> writer thread, bounded (back-pressure)
    int input_fd = 0;
};

struct Counters {
    std::uint64_t received = 0;   // readings (lines or messages) seen
    std::uint64_t stored = 0;     // new rows committed
    std::uint64_t rejected = 0;   // invalid, with a warning each
    std::uint64_t duplicates = 0; // re-deliveries already stored
    std::uint64_t status = 0;     // device status messages (MQTT)
    std::uint64_t ignored = 0;    // --format: messages that hold no reading (a light's state)
    std::uint64_t stamped = 0;    // stamped on receipt: no ts, or a wrong clock (--stamp-bad-clock)
    std::uint64_t dropped = 0;    // valid, and dropped by --privacy-policy
    std::uint64_t commits = 0;    // batches committed (shown with -v)
    std::uint64_t deleted = 0;    // rows removed by --retain (shown with -v)
};

// "received 10, stored 8, rejected 1, duplicates 1" (and ", status N", ", ignored N",
// ", stamped N", ", dropped N" when any).
[[nodiscard]] std::string format_counters(const Counters& c);

// <prefix>/sensors/# (which covers the seed's <prefix>/sensors/data) and <prefix>/status/#, or
// what --format reads (adapt::subscriptions).
[[nodiscard]] std::vector<std::string>
default_topics(std::string_view prefix, adapt::Format format = adapt::Format::iotshield);

// Runs until the end of the input (stdin) or SIGINT/SIGTERM, commits, prints the counters and
// returns the exit status. Throws iots::Error for the exit codes of DESIGN §5 (65, 66, 69, 74,
// 77), after printing the counters of what was stored. When the reader of stdout goes away, it
// warns once and goes on storing without passing records on.
int run(const Options& options, const core::Logger& log, core::LineWriter& out);

} // namespace iots::ingest
