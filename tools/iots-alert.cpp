// iots-alert: incidents from scored readings, alerts at once, language-model text later.
#include "iotshield/alert/runner.hpp"
#include "iotshield/cli/options.hpp"
#include "iotshield/cli/run_tool.hpp"

#include "iotshield/core/error.hpp"

#include <optional>
#include <string>

namespace {

int alert_main(iots::cli::Context& ctx) {
    using namespace iots;
    alert::RunOptions o;
    CLI::App app{"Turn anomalous scored readings into incidents and alerts (rules text at once, "
                 "optional language-model text as a later update)",
                 "iots-alert"};
    cli::init_app(app);
    std::string window = "5m", quiet = "5m", escalate = "10m", llm_timeout = "10s",
                exec_timeout = "10s", narrator = "rules", key_file;
    std::string gemini_url = "https://generativelanguage.googleapis.com";
    std::string llm_url = "http://127.0.0.1:11434/v1";
    bool replay = false;
    cli::add_broker_options(app, o.broker, "none: scored readings from stdin");
    cli::add_db_option(app, o.db_path, "Also store alerts in this SQLite database");
    app.add_option("--window", window, "Anomalies of a device this close join one incident (5m)")
        ->check(cli::positive_duration());
    app.add_option("--quiet-period", quiet,
                   "Resolve an incident after this long without anomalies (5m)")
        ->check(cli::positive_duration());
    app.add_option("--escalate-after", escalate,
                   "An incident this long rises one level, up to HIGH (10m)")
        ->check(cli::positive_duration());
    app.add_option("--gas-danger", o.tracker.policy.gas_danger_ppm,
                   "Gas level in ppm that is CRITICAL, above 0 up to 10000 (1500, iots-detect's "
                   "alarm level)")
        ->check(cli::gas_level());
    app.add_option("--heat-danger", o.tracker.policy.heat_danger_c,
                   "Temperature in C that is CRITICAL, 30 to 125 (57)")
        ->check(cli::heat_level());
    app.add_flag("--replay", replay, "Resolve by record timestamps only, not the wall clock");
    app.add_option("--narrator", narrator, "Text source: rules, gemini or openai (rules)")
        ->check(CLI::IsMember({"rules", "gemini", "openai"}));
    app.add_option("--llm-model", o.llm.model,
                   "Language model's name (gemini-2.5-flash; openai: llama3.2)");
    cli::deprecated_alias(app.add_option("--model", o.llm.model), "--llm-model");
    app.add_option("--api-key-file", key_file, "Read the API key from this file (else env)")
        ->check(cli::readable_file("--api-key-file"));
    app.add_option("--gemini-url", gemini_url, "Gemini API base URL");
    app.add_option("--llm-url", llm_url, "OpenAI-compatible base URL (http://127.0.0.1:11434/v1)");
    app.add_option("--llm-timeout", llm_timeout, "Give up on one model request after this (10s)")
        ->check(cli::positive_duration());
    app.add_option("--llm-retries", o.llm.retries, "Retries after 429, 5xx or a timeout (2)")
        ->check(cli::whole_number(0, 10));
    app.add_option("--llm-queue", o.llm.queue, "Alerts waiting for the model at most (8)")
        ->check(cli::whole_number<std::size_t>(1, 1000));
    bool off_box = false;
    app.add_flag("--off-box", off_box,
                 "Treat the --llm-url server as off the box (coarse facts) even on loopback, as "
                 "behind an SSH tunnel; Gemini and a server on another host always are");
    app.add_flag("--dry-run", o.dry_run, "Print each model request body on stderr; send nothing");
    app.add_option("--exec", o.exec.command, "Run this shell command per alert, alert on stdin");
    app.add_option("--exec-timeout", exec_timeout, "Kill an --exec command after this (10s)")
        ->check(cli::positive_duration());
    cli::add_input_options(app, o.input);
    app.add_option("-C,--count", o.count, "Exit after this many alerts (0: no limit)");
    ctx.parse(app);

    cli::finish_broker_options(o.broker);
    o.tracker.window_ms = cli::duration_ms("--window", window);
    o.tracker.quiet_ms = cli::duration_ms("--quiet-period", quiet);
    o.tracker.policy.escalate_after_ms = cli::duration_ms("--escalate-after", escalate);
    o.tracker.wall_clock = !replay;
    o.llm.timeout_ms = cli::duration_ms("--llm-timeout", llm_timeout);
    o.exec.timeout_ms = cli::duration_ms("--exec-timeout", exec_timeout);
    std::optional<std::string> key;
    if (!key_file.empty()) { // the first line, without the blanks an editor may leave after it
        key = cli::read_first_line("--api-key-file", key_file);
        key->erase(key->find_last_not_of(" \t\r") + 1);
        if (key->empty())
            throw Error(Exit::no_input, "--api-key-file " + key_file + ": empty");
    }
    const auto kind = narrator == "gemini"   ? alert::NarratorKind::gemini
                      : narrator == "openai" ? alert::NarratorKind::openai
                                             : alert::NarratorKind::rules;
    alert::choose_narrator(o, kind, kind == alert::NarratorKind::gemini ? gemini_url : llm_url,
                           key);
    // What leaves the box is coarsened: a model elsewhere needs no exact value or time.
    if (o.narrator == alert::NarratorKind::gemini ||
        (o.narrator == alert::NarratorKind::openai && (off_box || !alert::loopback_url(llm_url))))
        o.facts = alert::Detail::coarse;
    return alert::run(o, ctx.log, ctx.out);
}

} // namespace

int main(int argc, char** argv) {
    return iots::cli::run_tool(argc, argv, "iots-alert", alert_main);
}
