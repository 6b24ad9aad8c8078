#pragma once
// Shared by the test_sim_* tests: run the simulator for a while and collect what it sent.
#include "iotshield/record/serialize.hpp"
#include "iotshield/sim/simulator.hpp"

#include <string>
#include <vector>

namespace sim_test {

using iots::core::Millis;

struct Row {
    Millis ts = 0;
    std::string device, sensor, label;
    double value = 0;
    std::int64_t seq = 0;
};

inline constexpr Millis kMinute = 60000;
inline constexpr Millis kHour = 60 * kMinute;
inline constexpr Millis kDay = 24 * kHour;

inline iots::sim::Config config(Millis interval = 5000, std::uint64_t seed = 1) {
    iots::sim::Config c;
    c.start = iots::sim::kDefaultStart;
    c.interval = interval;
    c.seed = seed;
    c.devices = iots::sim::make_devices(3, {}, {});
    return c;
}

// Every reading with ts < start + duration.
inline std::vector<Row> simulate(const iots::sim::Config& c, Millis duration) {
    iots::sim::Simulator sim(c);
    std::vector<Row> rows;
    const Millis end = c.start + duration;
    for (;;) {
        const auto& out = sim.step();
        if (sim.last_ts() >= end)
            return rows;
        for (const auto* r : out)
            rows.push_back({r->ts, r->device, r->sensor, r->label, r->value, r->seq.value_or(-1)});
    }
}

// The first n readings as NDJSON text.
inline std::string simulate_json(const iots::sim::Config& c, std::size_t n) {
    iots::sim::Simulator sim(c);
    std::string text;
    std::size_t lines = 0;
    while (lines < n) {
        for (const auto* r : sim.step()) {
            if (lines++ == n)
                break;
            iots::record::append_json(*r, text);
            text.push_back('\n');
        }
    }
    return text;
}

// Local hour of day of a timestamp (the household clock is UTC in these tests).
inline int hour_of(Millis ts) {
    return static_cast<int>((ts % kDay) / kHour);
}

} // namespace sim_test
