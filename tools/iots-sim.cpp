// iots-sim: simulated ESP32 sensor nodes, NDJSON on stdout or readings over MQTT.
#include "iotshield/cli/options.hpp"
#include "iotshield/cli/run_tool.hpp"
#include "iotshield/sim/mqtt/service.hpp"

namespace {

using namespace iots;

int sim_main(cli::Context& ctx) {
    CLI::App app{"Simulate ESP32 home sensor nodes: readings as NDJSON on stdout, or over MQTT",
                 "iots-sim"};
    cli::init_app(app);
    sim::ServiceOptions o;
    sim::Arguments a;
    std::string tz;
    bool no_labels = false;
    app.add_option("--devices", a.devices, "Number of nodes (3; or as many as the lists name)")
        ->check(cli::whole_number(1, 1000));
    app.add_option("--device-names", a.names, "Node names, comma-separated (esp32-<room>)")
        ->delimiter(',');
    app.add_option("--rooms", a.rooms,
                   "Rooms of the nodes, comma-separated (livingroom,kitchen,...)")
        ->delimiter(',');
    app.add_option("--interval", a.interval, "One reading per sensor this often, 100ms to 1d (5s)")
        ->check(cli::duration_between(100, 86400000));
    app.add_option("--start", a.start,
                   "Simulated start, RFC 3339 (2025-10-06T00:00:00Z; with --realtime, now)");
    app.add_option("--from", a.from,
                   "Write only the readings from this RFC 3339 time on, simulating the ones "
                   "before: continues a run that ended then");
    auto* dur =
        app.add_option("--duration", a.duration, "Simulate this long: 90s, 30m, 2h, 14d (1d)")
            ->check(cli::positive_duration());
    app.add_option("-C,--count", a.count, "Stop after this many readings in all")
        ->check(cli::whole_number<std::uint64_t>(1, 1000000000000))
        ->excludes(dur);
    app.add_flag("--realtime", a.realtime,
                 "Pace readings on the wall clock (the ones already due at once), starting now");
    app.add_option("--seed", o.config.seed,
                   "Random seed: the same options give the same output (1)");
    app.add_option("--incident", a.incidents,
                   "Inject KIND@OFFSET[:DURATION][/DEVICE[/SENSOR]], e.g. fire@2h (repeatable)");
    app.add_option("--incident-rate", a.rate, "Random incidents, e.g. 3/d (per hour h, week w)");
    app.add_flag("--no-labels", no_labels, "Leave out the ground-truth label of each reading");
    app.add_option("--occupancy", a.occupancy,
                   "Write the household's presence (home, asleep, away) to this file, a line at "
                   "each change: the ground truth of occupancy")
        ->check(cli::writable_file("--occupancy"));
    auto* tz_opt = cli::add_tz_option(
        app, tz,
        "The household's IANA time zone, like Europe/Berlin: its day follows the local clock, "
        "daylight saving included (default: $TZ, else UTC)");
    app.add_option("--utc-offset", o.config.utc_offset_hours,
                   "Hours the household's clock is ahead of UTC, a fixed offset instead of --tz")
        ->excludes(tz_opt);
    app.add_flag("--actuators", o.actuators,
                 "Answer commands on <prefix>/control/<device> (needs -h)");
    auto* dp = app.add_option("--dp-epsilon", a.dp_epsilon,
                              "Edge noise: the home's privacy budget a day, split over every "
                              "reading it sends (off by default)")
                   ->check(cli::positive_number(1e6));
    app.add_option("--dp-mech", a.dp_mech, "Edge noise mechanism: laplace or gaussian (laplace)")
        ->check(CLI::IsMember({"laplace", "gaussian"}))
        ->needs(dp);
    app.add_option("--dp-delta", a.dp_delta, "Edge noise: the day's delta, for gaussian (1e-6)")
        ->check(cli::positive_number(0.5))
        ->needs(dp);
    app.add_option("--dp-clamp", a.dp_clamps,
                   "Edge noise: clamp KIND=LO:HI instead of the kind's whole range (repeatable)")
        ->needs(dp);
    cli::add_broker_options(app, o.broker, "none: readings as NDJSON on stdout");
    ctx.parse(app);

    cli::finish_broker_options(o.broker);
    if (app.count("--utc-offset") == 0)
        o.config.zone = cli::tz_zone(tz);
    a.labels = !no_labels;
    a.dp = dp->count() > 0;
    sim::resolve(a, o);
    return sim::run(o, ctx.log, ctx.out);
}

} // namespace

int main(int argc, char** argv) {
    return iots::cli::run_tool(argc, argv, "iots-sim", sim_main);
}
