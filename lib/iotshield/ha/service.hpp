#pragma once
// iots-ha's loop: the project's readings, statuses, anomalies and alerts in (MQTT), Home Assistant
// discovery configs and derived states out (MQTT, retained), announced again whenever Home
// Assistant says online on <discovery>/status.
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/core/reject_policy.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/record/safety.hpp"

#include <string>

namespace iots::ha {

struct Options {
    core::BrokerOptions broker;              // host required
    std::string discovery = "homeassistant"; // --discovery-prefix
    double gas_danger_ppm = record::kGasDangerPpm;
    core::Millis clear_after_ms = 5 * 60 * 1000; // --clear-after
    core::RejectPolicy input;                    // --strict, --max-bad-lines, --max-line-bytes
};

// Returns the exit status (DESIGN §5); throws iots::Error for the one catch site.
int run(const Options& options, const core::Logger& log);

} // namespace iots::ha
