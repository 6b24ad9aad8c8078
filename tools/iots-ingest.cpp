// iots-ingest: NDJSON readings from stdin or MQTT -> validated -> SQLite (batched) -> stdout.
#include "iotshield/adapt/adapter.hpp"
#include "iotshield/cli/options.hpp"
#include "iotshield/cli/run_tool.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/ingest/ingest.hpp"

namespace {

int ingest_main(iots::cli::Context& ctx) {
    iots::ingest::Options o;
    std::string retain, compact_after, batch_ms, max_skew, format, utc_offset;
    CLI::App app{"Validate NDJSON readings from stdin or MQTT, store them in SQLite in batches and "
                 "pass the valid ones on to stdout."};
    iots::cli::init_app(app);
    iots::cli::add_db_option(
        app, o.db_path, "SQLite database to store readings in; none: validate and pass on only");
    iots::cli::add_broker_options(app, o.broker, true);
    app.add_option("-t,--topic", o.topics,
                   "MQTT topic filter, repeatable; replaces the default <prefix>/sensors/# and "
                   "<prefix>/status/#");
    app.add_option("--format", format,
                   "Payload format: auto, iotshield (the default), seed, zigbee2mqtt, tasmota or "
                   "esphome; auto tells them apart by topic. Sets the default -t; on stdin, "
                   "lines are TOPIC PAYLOAD as mosquitto_sub -v prints them");
    app.add_option("--utc-offset", utc_offset,
                   "Offset of Tasmota's local Time from UTC, like +01:00 (default: the zone of "
                   "$TZ, else of /etc/localtime)");
    app.add_flag("--quiet", o.quiet, "Do not pass records on to stdout");
    iots::cli::add_input_options(app, o.input);
    app.add_option("--retain", retain,
                   "Delete readings older than DURATION (like 30d) from now, a few thousand rows "
                   "at a time, saying how many; while every stored reading is older (simulated or "
                   "replayed history), none, with a warning")
        ->check(iots::cli::positive_duration());
    app.add_flag("--retain-force", o.writer.retain_force,
                 "With --retain, delete old readings also when that deletes every stored one "
                 "(without it, history older than DURATION is kept, with a warning)");
    app.add_option("--compact-after", compact_after,
                   "Move the readings of each series older than DURATION behind its newest one "
                   "(like 1d) into compact hourly chunks (about 3 bytes a reading instead of "
                   "37), a few thousand at a time; 0: never (the default)")
        ->check(iots::cli::duration_between(0, std::int64_t{3650} * 86400000));
    app.add_option("--batch-size", o.writer.batch_size,
                   "Commit after this many readings at most (default 100000)")
        ->check(iots::cli::whole_number<std::size_t>(1, 1000000));
    app.add_option("--batch-ms", batch_ms,
                   "Commit a batch when it is this old at most, like 100ms (default 100ms); a "
                   "batch is committed at once when the input pauses and nothing else waits");
    app.add_option("--max-skew", max_skew,
                   "A ts more than DURATION ahead of this host's clock (default 1d), or before "
                   "2000-01-01, is a wrong clock: the reading is rejected (or stamped)");
    app.add_flag("--stamp-bad-clock", o.clock.stamp,
                 "Stamp a reading with a wrong clock with the time of receipt instead of "
                 "rejecting it, marked \"clock\":\"stamped\", the node's ts kept as \"node_ts\"");
    ctx.parse(app);
    iots::cli::finish_broker_options(o.broker);
    iots::adapt::read_format_options(format, utc_offset, o.broker.topic_prefix, o.adapt);
    if (!retain.empty() && (o.writer.retain_ms = iots::cli::duration_ms("--retain", retain)) <= 0)
        throw iots::Error(iots::Exit::usage, "--retain: must be longer than 0");
    if (o.writer.retain_force && retain.empty())
        throw iots::Error(iots::Exit::usage, "--retain-force needs --retain");
    if (!compact_after.empty())
        o.writer.compact_after_ms = iots::cli::duration_ms("--compact-after", compact_after);
    if (!max_skew.empty())
        o.clock.max_skew = iots::cli::duration_ms("--max-skew", max_skew);
    if (!batch_ms.empty())
        o.writer.batch_ms = iots::cli::duration_ms("--batch-ms", batch_ms);
    if (!o.topics.empty() && !o.broker.enabled())
        throw iots::Error(iots::Exit::usage, "-t needs a broker: give -h HOST");
    return iots::ingest::run(o, ctx.log, ctx.out);
}

} // namespace

int main(int argc, char** argv) {
    return iots::cli::run_tool(argc, argv, "iots-ingest", ingest_main);
}
