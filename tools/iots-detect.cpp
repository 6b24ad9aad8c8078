// iots-detect: readings in (stdin NDJSON or MQTT), scored readings out (DESIGN §2).
#include "iotshield/cli/options.hpp"
#include "iotshield/cli/run_tool.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/core/line_reader.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/detect/detector.hpp"
#include "iotshield/detect/model_file.hpp"
#include "iotshield/detect/state_file.hpp"
#include "iotshield/mqtt/client.hpp"
#include "iotshield/record/parser.hpp"
#include "iotshield/record/serialize.hpp"
#include "iotshield/store/checkpointer.hpp"
#include "iotshield/store/scores.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <sys/stat.h>
#include <thread>
#include <utility>
#include <vector>

namespace {
using namespace iots;

struct Counts {
    std::uint64_t read = 0, bad = 0, anomalies = 0;
};

core::Millis monotonic_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// --state: read at start, written every `every_ms` (0: only at exit) and at exit. A failed write
// is a warning, counted, and the previous file stays: scoring goes on.
class StateKeeper {
public:
    StateKeeper(const core::Logger& log, std::string path, core::Millis every_ms)
        : m_log(log), m_path(std::move(path)), m_every(every_ms), m_last(monotonic_ms()) {}

    void load(detect::Detector& detector) const {
        const auto info = detect::load_state(m_path, detector);
        if (!info) {
            m_log.info("state {}: none yet, learning from scratch", m_path);
            return;
        }
        m_log.info("state {}: {} series, written {}", m_path, info->series,
                   core::format_rfc3339(info->written_at));
        for (const auto& note : info->notes)
            m_log.info("state {}: {}", m_path, note);
    }
    void tick(const detect::Detector& detector) {
        if (m_every > 0 && monotonic_ms() - m_last >= m_every)
            save(detector);
    }
    void save(const detect::Detector& detector) {
        m_last = monotonic_ms();
        try {
            detect::save_state(m_path, detector, core::now_millis());
        } catch (const Error& e) {
            ++m_failures;
            m_log.warn("{}; keeping the previous state", e.what());
        }
    }
    [[nodiscard]] std::uint64_t failures() const noexcept { return m_failures; }

private:
    const core::Logger& m_log;
    std::string m_path;
    core::Millis m_every;
    core::Millis m_last;
    std::uint64_t m_failures = 0;
};

// The same path, or two names of one existing file.
bool same_file(const std::string& a, const std::string& b) {
    struct stat sa {};
    struct stat sb {};
    if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0)
        return a == b;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// End of input: the scores still waiting get the time the other writer (iots-ingest reading the
// same stream) needs to commit their readings, as long as it keeps committing.
void drain_scores(store::ScoreWriter& writer) {
    constexpr core::Millis kQuietMs = 1000;
    core::Millis last_change = monotonic_ms();
    while (writer.waiting() > 0 && !core::stop_requested()) {
        const core::Millis now = monotonic_ms();
        if (writer.retry(now))
            last_change = now;
        writer.commit();
        if (writer.waiting() == 0 || now - last_change >= kQuietMs)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// The model's profiles were learnt in its zone: that is the default, and another --tz is obeyed
// with a warning (a household that moved, or a model trained before zones were recorded).
core::Zone model_zone(const std::string& path, const detect::Model& model,
                      const std::optional<core::Zone>& given, core::Logger& log) {
    if (!given) {
        try {
            return core::Zone::named(model.zone);
        } catch (const Error& e) {
            throw Error(Exit::no_input, fmt::format("model {}: {}", path, e.what()));
        }
    }
    if (given->name() != model.zone)
        log.warn("--tz {} differs from the time zone of model {} ({}): its daily profiles were "
                 "learnt in {} hours",
                 given->name(), path, model.zone, model.zone);
    return *given;
}

int detect_main(cli::Context& ctx) {
    CLI::App app{"Score sensor readings for anomalies: safety thresholds and streaming checks, "
                 "plus an isolation forest given a model from iots-train."};
    cli::init_app(app);
    std::string model_path, db_path, score_wait, tz, state_path, state_every;
    bool anomalies_only = false, strict = false;
    std::uint64_t max_bad = 0;
    core::BrokerOptions broker;
    detect::DetectorOptions opt;
    app.add_option("--model", model_path,
                   "Model file written by iots-train (none: streaming checks only)");
    app.add_option("--state", state_path,
                   "File of what was learnt from the stream: read at start (none: a fresh start), "
                   "written every --state-every and at exit")
        ->check(cli::writable_file("--state"));
    app.add_option("--state-every", state_every,
                   "With --state: how often it is written, like 5m (default 5m; 0: only at exit)");
    app.add_flag("--anomalies-only", anomalies_only, "Write only readings flagged anomalous");
    cli::add_tz_option(app, tz,
                       "The home's IANA time zone, like Europe/Berlin, for the daily profiles "
                       "(default: the model's zone, else $TZ, else UTC)");
    cli::add_db_option(app, db_path, "Write score and flag back to stored readings, add anomalies");
    app.add_option("--score-wait", score_wait,
                   "With --db: how long a score waits for its reading to be stored by another "
                   "process, like 60s (default 60s)");
    app.add_option("--gas-ppm", opt.safety.gas_ppm,
                   "Gas alarm level in ppm, above 0 up to 10000 (default 1500)")
        ->check(cli::gas_level());
    app.add_option("--heat-c", opt.safety.heat_c,
                   "Heat alarm level in deg C, 30 to 125 (default 57)")
        ->check(cli::heat_level());
    app.add_option("--ror", opt.safety.ror_c_per_min,
                   "Rate-of-rise alarm in deg C/min, above 0 (default 8.3)")
        ->check(cli::positive_number());
    app.add_flag("--strict", strict, "Stop with exit 65 at the first invalid line");
    app.add_option("--max-bad-lines", max_bad,
                   "Stop with exit 65 after this many invalid lines (0: never)");
    cli::add_broker_options(app, broker, true);
    ctx.parse(app);
    cli::finish_broker_options(broker);
    store::ScoreOptions score_opt{2000};
    if (!score_wait.empty()) {
        if (db_path.empty())
            throw Error(Exit::usage, "--score-wait needs --db");
        score_opt.wait_ms = cli::duration_ms("--score-wait", score_wait);
    }

    std::optional<core::Zone> tz_given;
    if (!tz.empty())
        tz_given = cli::tz_zone(tz);

    core::Millis state_every_ms = 300'000;
    if (!state_every.empty()) {
        if (state_path.empty())
            throw Error(Exit::usage, "--state-every needs --state");
        state_every_ms = cli::duration_ms("--state-every", state_every);
    }
    if (!state_path.empty() && !model_path.empty() && same_file(state_path, model_path))
        throw Error(Exit::usage, "--state and --model name the same file: the state would "
                                 "overwrite the model");

    std::optional<detect::Model> model;
    if (!model_path.empty()) {
        model = detect::load_model(model_path);
        ctx.log.info("model {}: {} series, trained on {} .. {}, time zone {}", model_path,
                     model->series.size(), core::format_rfc3339(model->train_from),
                     core::format_rfc3339(model->train_to), model->zone);
        opt.zone = model_zone(model_path, *model, tz_given, ctx.log);
    } else {
        ctx.log.info(
            "no model: streaming checks only (safety thresholds, zscore, spike, stuck, gap)");
        opt.zone = tz_given ? *tz_given : core::Zone::from_environment();
    }
    detect::Detector detector(opt, model ? &*model : nullptr);
    std::optional<StateKeeper> state;
    if (!state_path.empty()) {
        state.emplace(ctx.log, state_path, state_every_ms);
        state->load(detector);
    }
    std::optional<store::Database> db;
    std::optional<store::ScoreWriter> writer;
    std::optional<store::Checkpointer> checkpointer; // not in a commit the MQTT input waits for
    if (!db_path.empty()) {
        store::OpenOptions open = store::patient_writer(ctx.log, db_path);
        open.create = false;
        db.emplace(db_path, std::move(open));
        writer.emplace(*db, score_opt);
        checkpointer.emplace(*db);
    }
    std::unique_ptr<mqtt::Client> client;
    record::Parser parser;
    record::Reading r;
    std::string json;
    record::JsonWriter writer_json;
    Counts n;
    auto reject = [&](const std::string& where, const std::string& why) {
        ++n.bad;
        ctx.log.warn("{}: {}", where, why);
        if (strict || (max_bad > 0 && n.bad > max_bad))
            throw Error(Exit::bad_input, where + ": " + why);
    };
    // MQTT: the network thread scores and publishes; the main loop writes the scores to the
    // database. A busy database (another writer's transaction, a slow commit) must never hold an
    // anomaly: it is published before anything waits on SQLite. Past kMaxQueued scores not yet
    // written the network thread waits (TCP back-pressure): memory stays bounded.
    constexpr std::size_t kMaxQueued = 20000;
    std::mutex mu; // ctx.out, n, `queued` while the MQTT client runs
    std::condition_variable room;
    std::vector<std::pair<record::Reading, core::Millis>> queued, scoring;
    bool leaving = false; // under mu: the main loop takes no more scores
    // One scored reading; where() names the input position for diagnostics (built only then).
    auto handle = [&](std::string_view text, const auto& where) {
        if (!parser.parse(text, r)) {
            const std::lock_guard lock(mu);
            ++n.read;
            return reject(where(), parser.error());
        }
        const detect::Verdict v = detector.annotate(r);
        if (!client) {
            ++n.read;
            if (writer)
                writer->write(r, monotonic_ms());
            n.anomalies += v.anomaly ? 1 : 0;
            if (anomalies_only && !v.anomaly)
                return;
            ctx.out.write_line_in_place(record::JsonWriter::max_size(r),
                                        [&](char* at) { return writer_json.write(r, at); });
            return;
        }
        const bool out = !anomalies_only || v.anomaly;
        if (out) {
            json.clear();
            writer_json.append(r, json);
        }
        if (v.anomaly)
            client->publish(mqtt::anomaly_topic(broker.topic_prefix, r.device, r.sensor), json,
                            broker.qos);
        std::unique_lock lock(mu);
        ++n.read;
        n.anomalies += v.anomaly ? 1 : 0;
        if (out)
            ctx.out.write_line(json);
        if (writer) {
            room.wait(lock, [&] { return queued.size() < kMaxQueued || leaving; });
            queued.emplace_back(r, monotonic_ms());
        }
    };
    // Main loop, MQTT: writes the queued scores without holding `mu`.
    const auto write_queued = [&] {
        {
            const std::lock_guard lock(mu);
            scoring.swap(queued);
        }
        room.notify_all();
        for (const auto& [reading, at] : scoring)
            writer->write(reading, at);
        scoring.clear();
    };

    const auto run_loop = [&] {
        if (broker.enabled()) {
            client = std::make_unique<mqtt::Client>(broker, ctx.log);
            // The detector is the network thread's alone: its state is saved there too.
            client->on_message([&](const mqtt::Message& m) {
                if (core::stop_requested())
                    return;
                handle(m.payload, [&] { return "topic " + m.topic; });
                if (state)
                    state->tick(detector);
            });
            const auto leave = [&] {
                {
                    const std::lock_guard lock(mu);
                    leaving = true;
                }
                room.notify_all();
            };
            try {
                client->connect();
                client->subscribe(broker.topic_prefix + "/sensors/#", broker.qos);
                while (!core::stop_requested()) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(50));
                    {
                        const std::lock_guard lock(mu);
                        ctx.out.flush();
                        if (core::take_counters_request())
                            ctx.log.info("read {}, anomalies {}, rejected {}", n.read, n.anomalies,
                                         n.bad);
                    }
                    if (writer) {
                        write_queued();
                        writer->retry(monotonic_ms());
                        writer->commit();
                    }
                }
            } catch (...) { // the network thread uses what is on this stack: stop it first
                leave();
                client->disconnect();
                throw;
            }
            leave();
            client->wait_published(2000);
            client->disconnect();
            if (writer)
                write_queued();
        } else {
            // Output is flushed whenever the input pauses, not per line: a lone reading still goes
            // out at once, and a backlog is written in large blocks.
            ctx.out.set_flush_each_line(false);
            core::LineReader reader(0);
            const auto where = [&] { return "line " + std::to_string(reader.line_number()); };
            while (!core::stop_requested()) {
                const auto st = reader.next();
                if (st == core::LineReader::Status::end)
                    break;
                if (st == core::LineReader::Status::line)
                    handle(reader.line(), where);
                else if (st == core::LineReader::Status::too_long)
                    ++n.read, reject(where(), "line too long");
                // Before a read that may wait: commit, so that the write lock is never held while
                // the input pauses (a part of a line buffered is no line).
                const bool pause = !reader.ready();
                if (writer && (pause || (reader.line_number() & 1023U) == 0))
                    writer->retry(monotonic_ms());
                if (pause) {
                    ctx.out.flush();
                    if (writer)
                        writer->commit();
                }
                // SIGUSR1 and the state's timer are looked at every pause and every 1024 lines.
                if (pause || (reader.line_number() & 1023U) == 0) {
                    if (core::take_counters_request())
                        ctx.log.info("read {}, anomalies {}, rejected {}", n.read, n.anomalies,
                                     n.bad);
                    if (state)
                        state->tick(detector);
                }
            }
        }
    };
    const auto report = [&] {
        ctx.log.info("read {}, scored {}, anomalies {}, rejected {}, series {}{}{}", n.read,
                     n.read - n.bad, n.anomalies, n.bad, detector.series_count(),
                     writer ? fmt::format(", stored scores {} (late {}, not in database {})",
                                          writer->counts().updated, writer->counts().late,
                                          writer->counts().unmatched)
                            : std::string(),
                     state && state->failures() > 0
                         ? fmt::format(", state writes failed {}", state->failures())
                         : std::string());
    };
    try {
        run_loop();
        ctx.out.flush();
        if (writer) {
            if (!client && !core::stop_requested())
                drain_scores(*writer);
            writer->finish();
            writer->commit();
        }
        if (state)
            state->save(detector);
    } catch (const OutputClosed&) {
        if (writer) { // the reader left: a quiet stop, after committing the scores of what was read
            writer->finish();
            writer->commit();
        }
        if (state)
            state->save(detector);
        throw;
    } catch (const Error&) { // a database or input error: what was done before it
        report();
        throw;
    }
    report();
    return 0;
}
} // namespace

int main(int argc, char** argv) {
    return iots::cli::run_tool(argc, argv, "iots-detect", detect_main);
}
