#pragma once
// iots-export's side of the database: the stored series, and per window of one series the sums a
// release needs, values clamped in the query (the clamp is the privacy module's contract: the
// sensitivity holds only for clamped values). No schema of its own.
#include "iotshield/core/time.hpp"
#include "iotshield/store/database.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace iots::store {

struct SeriesName {
    std::string device;
    std::string sensor;
};

// Every stored series, by device then sensor.
[[nodiscard]] std::vector<SeriesName> all_series(Database& db);

struct WindowSums {
    core::Millis start = 0;   // since + k * window_ms
    std::int64_t count = 0;   // readings in the window
    double clamped_sum = 0;   // sum of max(lo, min(hi, value))
    double min = 0, max = 0;  // of the raw values
    std::int64_t nonzero = 0; // readings whose value is not 0 (events of an on/off sensor)
};

// The windows [since + k w, since + (k+1) w) of one series within [since, until) that have
// readings, in time order.
[[nodiscard]] std::vector<WindowSums> window_sums(Database& db, const SeriesName& series,
                                                  core::Millis since, core::Millis until,
                                                  core::Millis window_ms, double lo, double hi);

} // namespace iots::store
