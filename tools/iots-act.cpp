// iots-act: incidents drive actuators, under rules checked for safety when they are loaded.
#include "iotshield/act/service.hpp"
#include "iotshield/cli/options.hpp"
#include "iotshield/cli/run_tool.hpp"

namespace {

int act_main(iots::cli::Context& ctx) {
    using namespace iots;
    act::RunOptions o;
    CLI::App app{"Send commands to actuators when incidents open, under rules checked for safety "
                 "(alerts in, action records out)",
                 "iots-act"};
    cli::init_app(app);
    std::string input = "stdin", tz;
    app.add_option("--rules", o.rules_path, "The rules file (iots-act.rules(5)); required")
        ->required()
        ->check(cli::readable_file("--rules"));
    cli::add_broker_options(app, o.broker, "where commands go; required but with --dry-run");
    app.add_option("--input", input,
                   "Read alerts from stdin, or from mqtt: <prefix>/alerts/# (stdin)")
        ->check(CLI::IsMember({"stdin", "mqtt"}));
    cli::add_db_option(app, o.db_path,
                       "Also write every command to this database's commands table");
    cli::add_tz_option(app, tz,
                       "The home's IANA time zone for the rules' 'between' windows, like "
                       "Europe/Berlin (default: $TZ, else UTC)");
    app.add_flag("--dry-run", o.dry_run,
                 "Print the action records of what would be sent; send nothing, no broker needed");
    cli::add_input_options(app, o.input);
    ctx.parse(app);

    cli::finish_broker_options(o.broker);
    o.mqtt_input = input == "mqtt";
    o.zone = cli::tz_zone(tz);
    return act::run(o, ctx.log, ctx.out);
}

} // namespace

int main(int argc, char** argv) {
    return iots::cli::run_tool(argc, argv, "iots-act", act_main);
}
