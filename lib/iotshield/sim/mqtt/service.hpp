#pragma once
// iots-sim's service: the main parses options and calls run().
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/core/output.hpp"
#include "iotshield/sim/config.hpp"
#include "iotshield/sim/run.hpp"

namespace iots::sim {

struct ServiceOptions {
    Config config;
    RunLimits limits;
    core::BrokerOptions broker; // not enabled(): NDJSON on stdout
    bool actuators = false;     // answer commands on <prefix>/control/<device> (needs the broker)
};

// Simulates to stdout (flushed per line when paced, in blocks for a backfill) or publishes over
// MQTT, one connection per node; returns 0, or 69 when not every message was acknowledged by the
// broker at the end. Throws iots::Error (unavailable, permission: the broker).
int run(const ServiceOptions& o, const core::Logger& log, core::LineWriter& out);

} // namespace iots::sim
