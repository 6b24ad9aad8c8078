// iots-detect: readings in (stdin NDJSON or MQTT), scored readings out (DESIGN §2).
#include "iotshield/adapt/adapter.hpp"
#include "iotshield/cli/options.hpp"
#include "iotshield/cli/run_tool.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/score/service.hpp"

namespace {
using namespace iots;

int detect_main(cli::Context& ctx) {
    CLI::App app{"Score sensor readings for anomalies: safety thresholds and streaming checks, "
                 "plus an isolation forest given a model from iots-train."};
    cli::init_app(app);
    score::Options o;
    std::string score_wait, tz, state_every, format, utc_offset;
    bool no_alarm_lane = false;
    app.add_option("--model", o.model_path,
                   "Model file written by iots-train (none: streaming checks only)");
    app.add_option("--state", o.state_path,
                   "File of what was learnt from the stream: read at start (none: a fresh start), "
                   "written every --state-every and at exit")
        ->check(cli::writable_file("--state"));
    app.add_option("--state-every", state_every,
                   "With --state: how often it is written, like 5m (default 5m; 0: only at exit)");
    app.add_flag("--anomalies-only", o.anomalies_only, "Write only readings flagged anomalous");
    cli::add_tz_option(app, tz,
                       "The home's IANA time zone, like Europe/Berlin, for the daily profiles "
                       "(default: the model's zone, else $TZ, else UTC)");
    cli::add_db_option(app, o.db_path,
                       "Write score and flag back to stored readings, add anomalies");
    app.add_option("--score-wait", score_wait,
                   "With --db: how long a score waits for its reading to be stored by another "
                   "process, like 60s (default 60s)");
    app.add_option("--gas-ppm", o.detector.safety.gas_ppm,
                   "Gas alarm level in ppm, above 0 up to 10000 (default 1500)")
        ->check(cli::gas_level());
    app.add_option("--heat-c", o.detector.safety.heat_c,
                   "Heat alarm level in deg C, 30 to 125 (default 57)")
        ->check(cli::heat_level());
    app.add_option("--ror", o.detector.safety.ror_c_per_min,
                   "Rate-of-rise alarm in deg C/min, above 0 (default 8.3)")
        ->check(cli::positive_number());
    cli::add_input_options(app, o.input);
    cli::add_broker_options(app, o.broker, "none: readings from stdin", true);
    app.add_option("-t,--topic", o.topics,
                   "MQTT topic filter, repeatable; replaces the default <prefix>/sensors/# (or "
                   "what --format reads)");
    app.add_flag("--no-alarm-lane", no_alarm_lane,
                 "Read flame, gas and temperature on the one connection of the other readings "
                 "(default: on a second connection, client id <id>-alarm, so that they never wait "
                 "behind the others)");
    app.add_option("--format", format,
                   "Payload format over MQTT: auto, iotshield (the default), seed, zigbee2mqtt, "
                   "tasmota or esphome; auto tells them apart by topic. Sets the default -t");
    app.add_option("--utc-offset", utc_offset,
                   "Offset of Tasmota's local Time from UTC, like +01:00 (default: the zone of "
                   "$TZ, else of /etc/localtime)");
    ctx.parse(app);
    cli::finish_broker_options(o.broker);
    o.alarm_lane = !no_alarm_lane;
    adapt::read_format_options(format, utc_offset, o.broker.topic_prefix, o.adapt);
    if (!o.broker.enabled() && (!format.empty() || !o.topics.empty() || no_alarm_lane))
        throw Error(Exit::usage, std::string(!format.empty() ? "--format"
                                             : no_alarm_lane ? "--no-alarm-lane"
                                                             : "-t") +
                                     " needs a broker: give -h HOST");
    if (!score_wait.empty()) {
        if (o.db_path.empty())
            throw Error(Exit::usage, "--score-wait needs --db");
        o.scores.wait_ms = cli::duration_ms("--score-wait", score_wait);
    }
    if (!tz.empty())
        o.zone = cli::tz_zone(tz);
    if (!state_every.empty()) {
        if (o.state_path.empty())
            throw Error(Exit::usage, "--state-every needs --state");
        o.state_every_ms = cli::duration_ms("--state-every", state_every);
    }
    return score::run(o, ctx.log, ctx.out);
}

} // namespace

int main(int argc, char** argv) {
    return iots::cli::run_tool(argc, argv, "iots-detect", detect_main);
}
