#pragma once
// The driving loop around the pure Simulator: limits (--duration, --count), wall-clock pacing
// (--realtime), SIGINT/SIGTERM, SIGUSR1 counters and actuator commands. Where the readings go
// (stdout, MQTT) is an Output.
#include "iotshield/core/log.hpp"
#include "iotshield/privacy/edge.hpp"
#include "iotshield/record/reading.hpp"
#include "iotshield/sim/simulator.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iots::sim {

class Output {
public:
    virtual ~Output() = default;
    // One reading and its compact JSON (no newline).
    virtual void reading(const record::Reading& r, std::string_view json) = 0;
    // The answer to an actuator command of `device`.
    virtual void ack(std::string_view /*device*/, std::string_view /*json*/) {}
    virtual void flush() {}
};

// Commands received on another thread (the MQTT network thread) for the loop to apply.
class CommandQueue {
public:
    struct Item {
        std::string device;
        std::string payload;
    };
    void push(std::string device, std::string payload);
    // Waits until an item is queued or the deadline passes.
    void wait_until(std::chrono::steady_clock::time_point deadline);
    [[nodiscard]] std::vector<Item> take();

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<Item> m_items;
};

struct RunLimits {
    bool realtime = false;              // emit each reading at its own time on the wall clock
    std::optional<core::Millis> from;   // simulate readings before this time without emitting them
    std::optional<core::Millis> end;    // stop before the first reading at or after this time
    std::optional<std::uint64_t> count; // stop after this many readings
};

// Edge noise on every reading before it is written (iots-sim --dp-epsilon): the noise, where its
// randomness comes from, and what it spent.
struct EdgeNoising {
    const privacy::EdgeNoise* noise = nullptr;
    privacy::RandomSource* rng = nullptr;
    std::uint64_t noised = 0; // readings noised
    std::uint64_t exact = 0;  // safety readings sent as they are
    std::int64_t days = 0;    // UTC days with a noised reading
    std::uint64_t most_in_a_day = 0;
    std::int64_t day = 0;     // the current UTC day
    std::uint64_t in_day = 0; // noised readings in it
};

// "edge noise: laplace, epsilon 1 a day for the home, split over its 207,362 noised readings a day
// (…): 4.82e-06 each; …" and the spending at the end.
[[nodiscard]] std::string describe_edge_plan(const privacy::EdgeNoise& noise, std::size_t devices,
                                             core::Millis interval);
[[nodiscard]] std::string describe_edge_spent(const EdgeNoising& edge);

// The household's presence from `from` to `to` into `path` (--occupancy), one NDJSON line at each
// change, looked at every minute: {"kind":"occupancy","ts":"…","presence":"home|asleep|away"}.
// Throws Error(io_error) when the file cannot be written.
void write_occupancy(const std::string& path, const Simulator& sim, core::Millis from,
                     core::Millis to);

struct RunStats {
    std::uint64_t readings = 0;
    std::uint64_t commands = 0;
    std::uint64_t failed_commands = 0;
};

// Runs until a limit is reached or SIGINT/SIGTERM; exceptions from the Output propagate.
RunStats run(Simulator& sim, Output& out, const RunLimits& limits, CommandQueue* commands,
             const core::Logger& log, EdgeNoising* edge = nullptr);

} // namespace iots::sim
