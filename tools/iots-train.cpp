// iots-train: history (SQLite or NDJSON on stdin) in, model file out, summary on stderr.
#include "iotshield/cli/options.hpp"
#include "iotshield/cli/run_tool.hpp"
#include "iotshield/train/service.hpp"

namespace {
using namespace iots;

int train_main(cli::Context& ctx) {
    CLI::App app{"Train the anomaly model (isolation forests and calibrated streaming levels) "
                 "from normal history, for iots-detect --model."};
    cli::init_app(app);
    train::Options o;
    std::string since, until, scope = "series", tz;
    cli::add_db_option(app, o.db_path,
                       "Read history from this database (default: NDJSON on stdin)");
    cli::add_input_options(app, o.input);
    app.add_option("--since", since, "Only readings at or after this time (RFC 3339 or epoch ms)");
    app.add_option("--until", until, "Only readings before this time (RFC 3339 or epoch ms)");
    app.add_option("--device", o.filter.devices, "Only this device (repeatable)");
    app.add_option("--sensor", o.filter.sensors, "Only this sensor (repeatable)");
    app.add_option("--model", o.model_path, "Model file to write")
        ->required()
        ->check(cli::writable_file("--model"));
    app.add_option("--false-alarm-rate", o.train.false_alarm_rate,
                   "False alarms per series and day each check may make on normal data (0.1)")
        ->check(cli::positive_number());
    app.add_option("--trees", o.train.forest.trees, "Trees in each isolation forest (100)")
        ->check(cli::whole_number<std::uint32_t>(1, 10000));
    app.add_option("--subsample", o.train.forest.subsample, "Points per tree (256)")
        ->check(cli::whole_number<std::uint32_t>(2, 1 << 20));
    app.add_option("--seed", o.train.forest.seed,
                   "Random seed: same seed and data, same model (1)");
    app.add_option("--per", scope,
                   "One model per 'series' (device and sensor) or per sensor 'kind'")
        ->check(CLI::IsMember({"series", "kind"}));
    cli::add_tz_option(app, tz,
                       "The home's IANA time zone, like Europe/Berlin: daily profiles are learnt "
                       "in its hours, daylight saving included (default: $TZ, else UTC)");
    app.add_flag("--kmeans", o.train.kmeans,
                 "Also train a k-means ensemble per numeric series (Netdata's method; off: it "
                 "did not win on bench/detect_eval.py)");
    ctx.parse(app);
    o.train.scope = scope == "kind" ? detect::Scope::kind : detect::Scope::series;
    o.train.zone = cli::tz_zone(tz);
    if (!since.empty())
        o.filter.since = cli::parse_time("--since", since);
    if (!until.empty())
        o.filter.until = cli::parse_time("--until", until);
    return train::run(o, ctx.log);
}
} // namespace

int main(int argc, char** argv) {
    return iots::cli::run_tool(argc, argv, "iots-train", train_main);
}
