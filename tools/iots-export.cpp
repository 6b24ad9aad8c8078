// iots-export: aggregates of the database that may leave the home, with differential privacy
// under a policy file and a per-day budget ledger, as NDJSON on stdout.
#include "iotshield/cli/options.hpp"
#include "iotshield/cli/run_tool.hpp"
#include "iotshield/exporter/service.hpp"

namespace {
using namespace iots;

int export_main(cli::Context& ctx) {
    CLI::App app{"Export aggregates that may leave the home (clamped means, noisy counts) with "
                 "differential privacy, charged to a per-day budget ledger in the database."};
    cli::init_app(app);
    exporter::Options o;
    std::string since, until;
    cli::add_db_option(app, o.db_path, "The database to read, and whose ledger is charged")
        ->required()
        ->check(cli::sqlite_file("--db"));
    app.add_option("--policy", o.policy_path,
                   "Privacy policy file: what may leave, with what noise, within what budget")
        ->check(cli::readable_file("--policy"));
    app.add_option("--destination", o.destination,
                   "Who receives the release (a name of your choice): the budget is per "
                   "destination and day");
    app.add_option("--since", since,
                   "First window to release (RFC 3339 or epoch ms; default: yesterday 00:00Z)");
    app.add_option("--until", until,
                   "End of the last window (RFC 3339 or epoch ms; default: a day after --since)");
    app.add_flag("--dry-run", o.dry_run,
                 "Show what would be released and what it would cost, per day; spend nothing");
    app.add_flag("--report", o.report,
                 "Print the ledger: what each destination was given per day (with --policy: "
                 "what is left)");
    ctx.parse(app);
    if (!since.empty())
        o.since = cli::parse_time("--since", since);
    if (!until.empty())
        o.until = cli::parse_time("--until", until);
    privacy::SystemRandom rng;
    return exporter::run(o, ctx.log, ctx.out, rng, core::now_millis());
}
} // namespace

int main(int argc, char** argv) {
    return iots::cli::run_tool(argc, argv, "iots-export", export_main);
}
