// iots-train: history (SQLite or NDJSON on stdin) in, model file out, summary on stderr.
#include "iotshield/cli/options.hpp"
#include "iotshield/cli/run_tool.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/core/line_reader.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/detect/model.hpp"
#include "iotshield/detect/model_file.hpp"
#include "iotshield/record/parser.hpp"
#include "iotshield/store/scores.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>

namespace {
using namespace iots;

// RFC 3339 or epoch milliseconds.
core::Millis parse_time(const std::string& option, const std::string& text) {
    if (auto t = core::parse_rfc3339(text))
        return *t;
    core::Millis ms = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc{} || p != text.data() + text.size())
        throw Error(Exit::usage, option + ": '" + text + "' is neither RFC 3339 nor epoch ms");
    return ms;
}

int train_main(cli::Context& ctx) {
    CLI::App app{"Train the anomaly model (isolation forests and calibrated streaming levels) "
                 "from normal history, for iots-detect --model."};
    cli::init_app(app);
    std::string db_path, model_path, since, until, scope = "series", tz;
    store::HistoryFilter filter;
    detect::TrainOptions opt;
    cli::add_db_option(app, db_path, "Read history from this database (default: NDJSON on stdin)");
    app.add_option("--since", since, "Only readings at or after this time (RFC 3339 or epoch ms)");
    app.add_option("--until", until, "Only readings before this time (RFC 3339 or epoch ms)");
    app.add_option("--device", filter.devices, "Only this device (repeatable)");
    app.add_option("--sensor", filter.sensors, "Only this sensor (repeatable)");
    app.add_option("--model", model_path, "Model file to write")
        ->required()
        ->check(cli::writable_file("--model"));
    app.add_option("--false-alarm-rate", opt.false_alarm_rate,
                   "False alarms per series and day each check may make on normal data (0.1)")
        ->check(cli::positive_number());
    app.add_option("--trees", opt.forest.trees, "Trees in each isolation forest (100)")
        ->check(cli::whole_number<std::uint32_t>(1, 10000));
    app.add_option("--subsample", opt.forest.subsample, "Points per tree (256)")
        ->check(cli::whole_number<std::uint32_t>(2, 1 << 20));
    app.add_option("--seed", opt.forest.seed, "Random seed: same seed and data, same model (1)");
    app.add_option("--per", scope,
                   "One model per 'series' (device and sensor) or per sensor 'kind'")
        ->check(CLI::IsMember({"series", "kind"}));
    cli::add_tz_option(app, tz,
                       "The home's IANA time zone, like Europe/Berlin: daily profiles are learnt "
                       "in its hours, daylight saving included (default: $TZ, else UTC)");
    app.add_flag("--kmeans", opt.kmeans,
                 "Also train a k-means ensemble per numeric series (Netdata's method; off: it "
                 "did not win on bench/detect_eval.py)");
    ctx.parse(app);
    opt.forest.depth = static_cast<std::uint32_t>(std::ceil(std::log2(opt.forest.subsample)));
    opt.scope = scope == "kind" ? detect::Scope::kind : detect::Scope::series;
    opt.zone = cli::tz_zone(tz);
    if (!since.empty())
        filter.since = parse_time("--since", since);
    if (!until.empty())
        filter.until = parse_time("--until", until);

    const auto t0 = std::chrono::steady_clock::now();
    std::map<std::pair<std::string, std::string>, detect::History> series;
    auto add = [&](const record::Reading& r) {
        auto& h = series[{r.device, r.sensor}];
        if (h.ts.empty()) {
            h.device = r.device;
            h.sensor = r.sensor;
        }
        h.ts.push_back(r.ts);
        h.values.push_back(r.value);
    };
    std::uint64_t left_out = 0, bad = 0;
    if (!db_path.empty()) {
        store::Database db(db_path, store::OpenOptions{true, false, 5000});
        left_out = store::read_history(db, filter, add).incidents;
    } else {
        auto wanted = [](const std::vector<std::string>& list, const std::string& v) {
            return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
        };
        core::LineReader reader(0);
        record::Parser parser;
        record::Reading r;
        for (auto st = reader.next(); st != core::LineReader::Status::end; st = reader.next()) {
            if (core::stop_requested())
                throw Error(Exit::failure, "interrupted: no model written");
            if (st == core::LineReader::Status::interrupted)
                continue;
            if (st == core::LineReader::Status::too_long || !parser.parse(reader.line(), r)) {
                ++bad;
                ctx.log.warn("line {}: {}", reader.line_number(),
                             st == core::LineReader::Status::too_long ? "line too long"
                                                                      : parser.error());
                continue;
            }
            if (!r.label.empty() && r.label != "normal") {
                ++left_out;
                continue;
            }
            if ((filter.since && r.ts < *filter.since) || (filter.until && r.ts >= *filter.until) ||
                !wanted(filter.devices, r.device) || !wanted(filter.sensors, r.sensor))
                continue;
            add(r);
        }
    }
    std::vector<detect::History> histories;
    std::uint64_t rows = 0;
    for (auto& [key, h] : series) {
        rows += h.ts.size();
        histories.push_back(std::move(h));
    }
    if (histories.empty())
        throw Error(Exit::bad_input,
                    "no training readings (check --db, --since, --until, --device, --sensor)");
    const auto t1 = std::chrono::steady_clock::now();
    detect::TrainResult result = detect::train(std::move(histories), opt);
    const auto t2 = std::chrono::steady_clock::now();
    for (const auto& g : result.groups)
        if (g.skipped)
            ctx.log.warn("{}/{}: {} readings, too few to train (need {} past warm-up): streaming "
                         "checks only",
                         g.device.empty() ? "*" : g.device, g.sensor, g.readings, opt.min_rows);
    for (const auto& s : result.model.series) {
        const auto& q = s.score_quantiles;
        std::string layers;
        if (!s.activity.empty()) {
            const auto [lo, hi] =
                std::minmax_element(s.activity.limit.begin(), s.activity.limit.end());
            layers += fmt::format(", activity level {:.1f} to {:.1f} events", *lo, *hi);
        }
        if (!s.kmeans.empty())
            layers += fmt::format(", k-means ensemble of {}", s.kmeans.models);
        ctx.log.info(
            "{}/{}: {} rows, threshold {:.3f} (training scores p50 {:.3f} p90 {:.3f} p99 "
            "{:.3f} p99.9 {:.3f} max {:.3f}), z {:.1f}, spike {:.1f}, stuck {}, heat {:g} C, "
            "{} profile level {:.1f} (training max {:.1f}){}",
            s.device.empty() ? "*" : s.device, s.sensor, s.rows, s.threshold, q[0], q[1], q[2],
            q[3], q[4], s.levels.z, s.levels.spike, s.levels.stuck_min, s.levels.heat_c,
            s.profile.binary ? "rate" : "level", s.profile.limit, s.profile_train_max, layers);
    }
    if (result.model.series.empty())
        throw Error(Exit::bad_input, "no series had enough readings to train a model");
    detect::save_model(model_path, result.model);
    const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
    ctx.log.info("{} models from {} readings ({} incident readings left out, {} rejected); read "
                 "{:.0f} ms, trained {:.0f} ms; time zone {}; wrote {}",
                 result.model.series.size(), rows, left_out, bad, ms(t1 - t0), ms(t2 - t1),
                 result.model.zone, model_path);
    return 0;
}
} // namespace

int main(int argc, char** argv) {
    return iots::cli::run_tool(argc, argv, "iots-train", train_main);
}
