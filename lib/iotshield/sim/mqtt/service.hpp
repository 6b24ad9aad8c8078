#pragma once
// iots-sim's service: the main parses options and calls run().
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/core/output.hpp"
#include "iotshield/privacy/edge.hpp"
#include "iotshield/sim/config.hpp"
#include "iotshield/sim/run.hpp"

#include <optional>
#include <string>

namespace iots::sim {

struct ServiceOptions {
    Config config;
    RunLimits limits;
    core::BrokerOptions broker; // not enabled(): NDJSON on stdout
    bool actuators = false;     // answer commands on <prefix>/control/<device> (needs the broker)
    std::optional<privacy::EdgeOptions> edge; // opt-in edge noise on what leaves the node
    std::string occupancy;                    // where to write the household's presence, or empty
};

// Simulates to stdout (flushed per line when paced, in blocks for a backfill) or publishes over
// MQTT, one connection per node; returns 0, or 69 when not every message was acknowledged by the
// broker at the end. Throws iots::Error (usage: the edge noise's split; unavailable, permission:
// the broker; io: the occupancy file).
int run(const ServiceOptions& o, const core::Logger& log, core::LineWriter& out);

} // namespace iots::sim
