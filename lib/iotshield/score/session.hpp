#pragma once
// What the stdin and MQTT loops share: the detector, where its scores go, and what was counted.
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/core/output.hpp"
#include "iotshield/detect/detector.hpp"
#include "iotshield/score/input.hpp"
#include "iotshield/score/score_store.hpp"
#include "iotshield/score/state_keeper.hpp"

#include <cstdint>

namespace iots::score {

struct Counts {
    std::uint64_t read = 0, anomalies = 0; // rejected: Rejects::count()
};

struct Session {
    const core::Logger& log;
    core::LineWriter& out;
    detect::Detector& detector;
    Rejects& rejects;
    StateKeeper* state = nullptr; // none without --state
    ScoreStore* store = nullptr;  // none without --db
    bool anomalies_only = false;
    Counts counts;
};

// stdin: scores on this thread, output flushed and scores committed whenever the input pauses.
void run_stdin(Session& s);
// MQTT: the network thread scores and publishes anomalies; this thread writes the scores to the
// database. Until SIGINT/SIGTERM.
void run_mqtt(Session& s, const core::BrokerOptions& broker);

} // namespace iots::score
