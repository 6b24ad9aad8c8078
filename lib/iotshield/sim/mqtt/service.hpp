#pragma once
// iots-sim's service: the main parses options and calls run().
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/core/output.hpp"
#include "iotshield/privacy/edge.hpp"
#include "iotshield/sim/config.hpp"
#include "iotshield/sim/run.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

// iots-sim's options as given on its command line, before they are checked and converted.
struct Arguments {
    int devices = 0; // 0: as many as the lists name, else 3
    std::vector<std::string> names, rooms, incidents, dp_clamps;
    std::string interval = "5s", start, from, duration, rate, occupancy, dp_mech = "laplace";
    std::uint64_t count = 0; // 0: not given
    bool realtime = false, labels = true, dp = false;
    double dp_epsilon = 0, dp_delta = 1e-6;
};

// Turns the arguments into what run() needs (o.config.seed, .zone, .utc_offset_hours, o.broker
// and o.actuators are set by the caller first); throws iots::Error(usage) naming the option and
// the problem: "--from: '...' is before the start", "--incident fire@30h: starts after the run
// ends (--duration 1d)", "--actuators needs a broker (-h HOST)".
void resolve(const Arguments& a, ServiceOptions& o);

} // namespace iots::sim
