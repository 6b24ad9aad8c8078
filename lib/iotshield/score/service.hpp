#pragma once
// iots-detect: readings in (stdin NDJSON or MQTT), scored readings out (DESIGN §2), scores and
// anomalies written back to the database with --db, what was learnt kept in --state.
// The tool's main only parses options into Options and calls run().
#include "iotshield/adapt/adapter.hpp"
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/core/output.hpp"
#include "iotshield/core/reject_policy.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/core/zone.hpp"
#include "iotshield/detect/detector.hpp"
#include "iotshield/store/scores.hpp"

#include <optional>
#include <string>
#include <vector>

namespace iots::score {

struct Options {
    std::string model_path;                // empty: streaming checks only
    std::string state_path;                // empty: no state file
    core::Millis state_every_ms = 300'000; // with state_path: 0 writes it only at exit
    std::string db_path;                   // empty: no scores written back
    store::ScoreOptions scores{2000};
    std::optional<core::Zone> zone;   // --tz; none: the model's zone, else $TZ, else UTC
    detect::DetectorOptions detector; // its zone is chosen by run()
    bool anomalies_only = false;
    core::RejectPolicy input;        // --strict, --max-bad-lines, --max-line-bytes
    core::BrokerOptions broker;      // host empty: read stdin
    std::vector<std::string> topics; // -t filters; empty: the format's (adapt::subscriptions)
    adapt::Options adapt;            // --format over MQTT (default iotshield), --utc-offset
    // The sensors with a safety threshold on a connection of their own (run_mqtt); false with
    // --no-alarm-lane. Only with the default subscription of the iotshield format.
    bool alarm_lane = true;
};

// Runs until the end of the input (stdin) or SIGINT/SIGTERM, prints the summary and returns the
// exit status. Throws iots::Error for the exit codes of DESIGN §5 (2 when --state and --model name
// one file, 65, 66, 69, 74), after the summary of what was done for an input or database error.
int run(const Options& options, const core::Logger& log, core::LineWriter& out);

} // namespace iots::score
