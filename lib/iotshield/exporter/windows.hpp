#pragma once
// The noised aggregates of one release, before any of it leaves: per device and sensor the
// policy names, every window of the range (whether or not it has readings: which windows are
// released must not depend on the data).
#include "iotshield/exporter/policy.hpp"
#include "iotshield/privacy/random.hpp"
#include "iotshield/store/database.hpp"

#include <string>
#include <vector>

namespace iots::exporter {

struct Charge {
    core::Millis window_start = 0;
    privacy::Cost cost;
};

struct Windows {
    std::vector<std::string> records; // aggregate records, JSON without the line end
    std::vector<Charge> charges;      // one per record
};

[[nodiscard]] Windows collect(store::Database& db, const Policy& policy, core::Millis since,
                              core::Millis until, privacy::RandomSource& rng);

} // namespace iots::exporter
