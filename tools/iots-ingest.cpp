// iots-ingest: NDJSON readings from stdin or MQTT -> validated -> SQLite (batched) -> stdout.
#include "iotshield/adapt/adapter.hpp"
#include "iotshield/cli/options.hpp"
#include "iotshield/cli/run_tool.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/ingest/ingest.hpp"

namespace {

int ingest_main(iots::cli::Context& ctx) {
    iots::ingest::Options o;
    std::string retain, retain_raw, retain_minutes, retain_hours, max_db_size, compact_after;
    std::string batch_ms, max_skew, format, utc_offset, privacy_policy;
    CLI::App app{"Validate NDJSON readings from stdin or MQTT, store them in SQLite in batches and "
                 "pass the valid ones on to stdout."};
    iots::cli::init_app(app);
    iots::cli::add_db_option(
        app, o.db_path, "SQLite database to store readings in; none: validate and pass on only");
    iots::cli::add_broker_options(app, o.broker, "none: readings from stdin", true);
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
    app.add_option("--retain-raw", retain_raw,
                   "Delete raw readings older than DURATION from now (default 30d; 0 keeps them), "
                   "a few thousand rows at a time, with a warning before most of them go; while "
                   "every stored reading is older (simulated or replayed history), none");
    app.add_option("--retain", retain, "The same as --retain-raw (older name)")
        ->check(iots::cli::positive_duration());
    app.add_option("--retain-minutes", retain_minutes,
                   "Delete per-minute rollups older than DURATION (default 365d; 0 keeps them)");
    app.add_option("--retain-hours", retain_hours,
                   "Delete per-hour rollups older than DURATION (default 0: keep them forever)");
    app.add_flag("--retain-force", o.writer.retain_force,
                 "Delete old rows also when that deletes every stored one (without it, history "
                 "older than the retention is kept, with a warning)");
    app.add_option("--max-db-size", max_db_size,
                   "Disk budget, like 800M or 2G (default none): as the database's pages in use "
                   "pass 90% of it, the oldest raw readings are deleted first, with a warning; "
                   "inserts never fail for it");
    app.add_option("--compact-after", compact_after,
                   "Move the readings of each series more than DURATION behind its newest one "
                   "into compact hourly chunks (about 6 bytes a reading instead of 37), a few "
                   "thousand at a time (default 1d; 0 or off: never)")
        ->check(CLI::Validator(
            [](std::string& text) {
                return text == "off"
                           ? std::string()
                           : iots::cli::duration_between(0, std::int64_t{3650} * 86400000)(text);
            },
            ""));
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
    app.add_option("--privacy-policy", privacy_policy,
                   "Per sensor kind, keep, drop, round the value to a step or floor the time to "
                   "a step before storing and passing on (iots-ingest(1), PRIVACY POLICY)")
        ->check(iots::cli::readable_file("--privacy-policy"));
    ctx.parse(app);
    if (!privacy_policy.empty())
        o.privacy = iots::ingest::PrivacyPolicy::load(privacy_policy);
    iots::cli::finish_broker_options(o.broker);
    iots::adapt::read_format_options(format, utc_offset, o.broker.topic_prefix, o.adapt);
    if (!retain.empty() && !retain_raw.empty())
        throw iots::Error(iots::Exit::usage, "--retain and --retain-raw: give one of them");
    if (!retain.empty())
        retain_raw = retain;
    o.retain_explicit = !retain_raw.empty() || !retain_minutes.empty() || !retain_hours.empty();
    o.writer.retain_ms =
        iots::cli::duration_ms("--retain-raw", retain_raw.empty() ? "30d" : retain_raw);
    o.writer.retain_minutes_ms = iots::cli::duration_ms(
        "--retain-minutes", retain_minutes.empty() ? "365d" : retain_minutes);
    o.writer.retain_hours_ms =
        iots::cli::duration_ms("--retain-hours", retain_hours.empty() ? "0" : retain_hours);
    if (!max_db_size.empty())
        o.writer.max_db_bytes = iots::cli::size_bytes("--max-db-size", max_db_size);
    o.writer.compact_after_ms =
        compact_after == "off"
            ? 0
            : iots::cli::duration_ms("--compact-after",
                                     compact_after.empty() ? "1d" : compact_after);
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
