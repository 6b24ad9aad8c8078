// iots-ha: Home Assistant MQTT discovery for every device and sensor seen on the broker.
#include "iotshield/cli/options.hpp"
#include "iotshield/cli/run_tool.hpp"
#include "iotshield/ha/service.hpp"

namespace {

int ha_main(iots::cli::Context& ctx) {
    using namespace iots;
    ha::Options o;
    CLI::App app{"Announce every device and sensor on the broker to Home Assistant (MQTT "
                 "discovery), with its availability, anomaly state and latest alert severity",
                 "iots-ha"};
    cli::init_app(app);
    std::string clear_after = "5m";
    cli::add_broker_options(app, o.broker, "required");
    app.add_option("--discovery-prefix", o.discovery,
                   "Home Assistant's discovery prefix (homeassistant)");
    app.add_option("--gas-danger", o.gas_danger_ppm,
                   "Gas level in ppm that is a leak, above 0 up to 10000 (1500, iots-detect's "
                   "alarm level)")
        ->check(cli::gas_level());
    app.add_option("--clear-after", clear_after,
                   "The anomaly turns off this long after the device's last one (5m)")
        ->check(cli::positive_duration());
    cli::add_input_options(app, o.input);
    ctx.parse(app);

    cli::finish_broker_options(o.broker);
    o.clear_after_ms = cli::duration_ms("--clear-after", clear_after);
    return ha::run(o, ctx.log);
}

} // namespace

int main(int argc, char** argv) {
    return iots::cli::run_tool(argc, argv, "iots-ha", ha_main);
}
