#pragma once
// Option groups shared by several tools, so each flag is spelled and documented once.
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/reject_policy.hpp"
#include "iotshield/core/zone.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace iots::cli {

// -h/-p/-q/-i/-c/-u/--password-file/--cafile/--capath/--cert/--key/--insecure/-k/--topic-prefix/--share.
// Environment: IOTS_BROKER (host[:port]), IOTS_MQTT_USER, IOTS_MQTT_PASSWORD. --help stays --help.
void add_broker_options(CLI::App& app, core::BrokerOptions& options, bool with_share = false);

// After parse: fills what comes from the environment and files (password), validates combinations.
// Throws Error(usage) or Error(no_input) with a precise message.
void finish_broker_options(core::BrokerOptions& options);

// --strict, --max-bad-lines N, --max-line-bytes N: what a tool that reads readings does with a
// record it rejects (input::Rejects applies them). The same names and --help text in every tool.
void add_input_options(CLI::App& app, core::RejectPolicy& policy);

// --db FILE, with IOTS_DB as the environment fallback.
CLI::Option* add_db_option(CLI::App& app, std::string& path, const std::string& help);

// --tz ZONE, the home's IANA time zone (the value stays empty when the option is not given).
CLI::Option* add_tz_option(CLI::App& app, std::string& name, const std::string& help);
// After parse: the zone of --tz, else $TZ, else UTC. Throws Error(usage) naming --tz or TZ.
[[nodiscard]] core::Zone tz_zone(const std::string& name);

// Parses a duration option value ("5s", "14d") into milliseconds; throws Error(usage) naming the
// option.
std::int64_t duration_ms(const std::string& option, const std::string& text);

} // namespace iots::cli
