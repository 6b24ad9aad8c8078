#pragma once
// What the stdin and MQTT loops share: the detector, where its scores go, and what was counted.
#include "iotshield/adapt/adapter.hpp"
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/core/output.hpp"
#include "iotshield/detect/detector.hpp"
#include "iotshield/input/rejects.hpp"
#include "iotshield/score/score_store.hpp"
#include "iotshield/score/state_keeper.hpp"

#include <cstdint>
#include <vector>

namespace iots::score {

struct Counts {
    std::uint64_t read = 0, anomalies = 0; // rejected: Rejects::count()
};

struct Session {
    const core::Logger& log;
    core::LineWriter& out;
    detect::Detector& detector;
    input::Rejects& rejects;      // the input thread's (MQTT: the network thread's)
    StateKeeper* state = nullptr; // none without --state
    ScoreStore* store = nullptr;  // none without --db
    bool anomalies_only = false;
    Counts counts;
};

// stdin (input::read_lines): scores on this thread, output flushed and scores committed whenever
// the input pauses, and before a rejected line ends the run (exit 65).
void run_stdin(Session& s);
// MQTT (input::deliver): the network thread scores and publishes anomalies; this thread writes the
// scores to the database, and rethrows the network thread's exit 65 after committing what came
// before it. Until SIGINT/SIGTERM.
// filters empty: <prefix>/sensors/#, or what adapt.format reads. alarm_lane, with the default
// filter of the iotshield format: the flame, gas and temperature readings come in on a second
// connection (client id <id>-alarm) with its own network thread, connected first, and the first
// connection leaves them alone.
void run_mqtt(Session& s, const core::BrokerOptions& broker,
              const std::vector<std::string>& filters, const adapt::Options& adapt,
              bool alarm_lane);

} // namespace iots::score
