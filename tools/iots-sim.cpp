// iots-sim: simulated ESP32 sensor nodes, NDJSON on stdout or readings over MQTT.
#include "iotshield/cli/options.hpp"
#include "iotshield/cli/run_tool.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/privacy/edge.hpp"
#include "iotshield/sim/mqtt/service.hpp"

namespace {

using namespace iots;

int sim_main(cli::Context& ctx) {
    CLI::App app{"Simulate ESP32 home sensor nodes: readings as NDJSON on stdout, or over MQTT",
                 "iots-sim"};
    cli::init_app(app);
    sim::ServiceOptions o;
    sim::Config& c = o.config;
    sim::RunLimits& limits = o.limits;
    int devices = 0;
    std::vector<std::string> names, rooms, incidents;
    std::string interval = "5s", start, from, duration, rate, tz, occupancy;
    std::uint64_t count = 0;
    bool realtime = false, no_labels = false;
    core::BrokerOptions& broker = o.broker;
    double dp_epsilon = 0, dp_delta = 1e-6;
    std::string dp_mech = "laplace";
    std::vector<std::string> dp_clamps;
    app.add_option("--devices", devices, "Number of nodes (3; or as many as the lists name)")
        ->check(cli::whole_number(1, 1000));
    app.add_option("--device-names", names, "Node names, comma-separated (esp32-<room>)")
        ->delimiter(',');
    app.add_option("--rooms", rooms, "Rooms of the nodes, comma-separated (livingroom,kitchen,...)")
        ->delimiter(',');
    app.add_option("--interval", interval, "One reading per sensor this often, 100ms to 1d (5s)")
        ->check(cli::duration_between(100, 86400000));
    app.add_option("--start", start,
                   "Simulated start, RFC 3339 (2025-10-06T00:00:00Z; with --realtime, now)");
    app.add_option("--from", from,
                   "Write only the readings from this RFC 3339 time on, simulating the ones "
                   "before: continues a run that ended then");
    auto* dur = app.add_option("--duration", duration, "Simulate this long: 90s, 30m, 2h, 14d (1d)")
                    ->check(cli::positive_duration());
    app.add_option("-C,--count", count, "Stop after this many readings in all")
        ->check(cli::whole_number<std::uint64_t>(1, 1000000000000))
        ->excludes(dur);
    app.add_flag("--realtime", realtime,
                 "Pace readings on the wall clock (the ones already due at once), starting now");
    app.add_option("--seed", c.seed, "Random seed: the same options give the same output (1)");
    app.add_option("--incident", incidents,
                   "Inject KIND@OFFSET[:DURATION][/DEVICE[/SENSOR]], e.g. fire@2h (repeatable)");
    app.add_option("--incident-rate", rate, "Random incidents, e.g. 3/d (per hour h, week w)");
    app.add_flag("--no-labels", no_labels, "Leave out the ground-truth label of each reading");
    app.add_option("--occupancy", occupancy,
                   "Write the household's presence (home, asleep, away) to this file, a line at "
                   "each change: the ground truth of occupancy")
        ->check(cli::writable_file("--occupancy"));
    auto* tz_opt = cli::add_tz_option(
        app, tz,
        "The household's IANA time zone, like Europe/Berlin: its day follows the local clock, "
        "daylight saving included (default: $TZ, else UTC)");
    app.add_option("--utc-offset", c.utc_offset_hours,
                   "Hours the household's clock is ahead of UTC, a fixed offset instead of --tz")
        ->excludes(tz_opt);
    app.add_flag("--actuators", o.actuators,
                 "Answer commands on <prefix>/control/<device> (needs -h)");
    auto* dp = app.add_option("--dp-epsilon", dp_epsilon,
                              "Edge noise: the home's privacy budget a day, split over every "
                              "reading it sends (off by default)")
                   ->check(cli::positive_number(1e6));
    app.add_option("--dp-mech", dp_mech, "Edge noise mechanism: laplace or gaussian (laplace)")
        ->check(CLI::IsMember({"laplace", "gaussian"}))
        ->needs(dp);
    app.add_option("--dp-delta", dp_delta, "Edge noise: the day's delta, for gaussian (1e-6)")
        ->check(cli::positive_number(0.5))
        ->needs(dp);
    app.add_option("--dp-clamp", dp_clamps,
                   "Edge noise: clamp KIND=LO:HI instead of the kind's whole range (repeatable)")
        ->needs(dp);
    cli::add_broker_options(app, broker, "none: readings as NDJSON on stdout");
    ctx.parse(app);

    cli::finish_broker_options(broker);
    c.devices = sim::make_devices(devices, names, rooms);
    c.interval = cli::duration_ms("--interval", interval);
    c.labels = !no_labels;
    if (app.count("--utc-offset") == 0)
        c.zone = cli::tz_zone(tz);
    for (const auto& text : incidents)
        c.incidents.push_back(sim::parse_incident(text));
    if (!rate.empty())
        c.incidents_per_day = sim::parse_rate(rate);
    c.start = realtime ? core::now_millis() : sim::kDefaultStart;
    if (!start.empty()) {
        const auto t = core::parse_rfc3339(start);
        if (!t)
            throw Error(Exit::usage, "--start: '" + start + "' is not an RFC 3339 time");
        c.start = *t;
    }
    if (!from.empty()) {
        const auto t = core::parse_rfc3339(from);
        if (!t)
            throw Error(Exit::usage, "--from: '" + from + "' is not an RFC 3339 time");
        if (*t < c.start)
            throw Error(Exit::usage, "--from: '" + from + "' is before the start");
        limits.from = *t;
    }
    if (o.actuators && !broker.enabled())
        throw Error(Exit::usage, "--actuators needs a broker (-h HOST)");
    limits.realtime = realtime;
    if (count > 0)
        limits.count = count;
    else if (!duration.empty())
        limits.end = c.start + cli::duration_ms("--duration", duration);
    else if (!realtime)
        limits.end = c.start + 86400000; // a day; real time runs until stopped
    if (limits.end)
        for (std::size_t i = 0; i < c.incidents.size(); ++i)
            if (c.start + c.incidents[i].offset >= *limits.end)
                throw Error(Exit::usage, "--incident " + incidents[i] +
                                             ": starts after the run ends (--duration " +
                                             (duration.empty() ? "1d" : duration) + ")");
    if (!occupancy.empty() && !limits.end)
        throw Error(Exit::usage, "--occupancy needs a run with an end (--duration)");
    o.occupancy = occupancy;
    if (*dp) {
        privacy::EdgeOptions e;
        e.mech = dp_mech == "gaussian" ? privacy::Mech::gaussian : privacy::Mech::laplace;
        e.day_epsilon = dp_epsilon;
        e.day_delta = dp_delta;
        e.readings_per_day =
            static_cast<std::int64_t>(c.devices.size() * privacy::kEdgeKinds.size()) *
            privacy::readings_per_day(c.interval);
        for (const auto& text : dp_clamps)
            e.clamps.push_back(privacy::parse_edge_clamp(text));
        o.edge = e;
    }
    return sim::run(o, ctx.log, ctx.out);
}

} // namespace

int main(int argc, char** argv) {
    return iots::cli::run_tool(argc, argv, "iots-sim", sim_main);
}
