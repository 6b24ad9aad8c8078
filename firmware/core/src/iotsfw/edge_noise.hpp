#pragma once
// Edge noise on the node (opt-in, for a node on a broker the home does not trust): the firmware's
// own copy of the hub's lib/iotshield/privacy/edge.* (the core builds without the hub's library,
// and the ESP32 has no 128-bit integers), with the same arithmetic and the same "privacy" member,
// Laplace only.
//
// The privacy unit is the home's day: all its nodes' readings in 24 hours. The day's epsilon is
// split evenly over the noised readings the home sends in a day (basic composition), each clamped
// to its kind's range, whose width is the sensitivity; temperature, humidity and light get
// discrete Laplace noise on a power-of-two grid (Canonne, Kamath, Steinke 2020, in 64-bit integer
// arithmetic: no floating point touches a sample, against Mironov's attack of 2012), motion
// randomized response; the result is clamped to the range again. Gas and flame are never noised,
// nor a temperature at or above the heat level (57 C); noised temperatures stay at or below 56 C.
#include "iotsfw/records.hpp"

#include <cstdint>
#include <string>

namespace iots::fw {

// Randomness for the noise: esp_random() on the board (the hardware generator, with Wi-Fi or
// Bluetooth on), a seeded generator in the host tests.
class Random {
public:
    virtual ~Random() = default;
    virtual std::uint32_t next32() = 0;
};

// xoshiro128** from a seed, for tests only: never for releases.
class SeededRandom final : public Random {
public:
    explicit SeededRandom(std::uint64_t seed);
    std::uint32_t next32() override;

private:
    std::uint32_t m_s[4];
};

struct EdgeRange {
    double lo = 0, hi = 0;
};

struct EdgeNoiseConfig {
    double day_epsilon = 0;             // 0: off
    std::uint64_t readings_per_day = 0; // noised readings of the whole home in 24 hours
    EdgeRange temperature{-40, 56};     // at most 56: below the heat level
    EdgeRange humidity{0, 100};
    EdgeRange light{0, 100000};
};

// Readings a series sends in 24 hours at one per interval_ms, rounded up, plus one.
[[nodiscard]] std::uint64_t edge_readings_per_day(std::uint32_t interval_ms);

class EdgeNoise {
public:
    // check() first: a config it refuses gives a noise that noises nothing.
    explicit EdgeNoise(const EdgeNoiseConfig& config);
    // Empty when usable, else what is wrong (epsilon a reading under 2^-20, a range out of
    // order, temperature's top at the heat level).
    [[nodiscard]] static std::string check(const EdgeNoiseConfig& config);

    // Noises value in place: false (value untouched) for gas, flame and heat.
    bool apply(Kind k, double& value, Random& rng) const;
    // The record's member, `"privacy":{…}` (without a leading comma), for a noised kind.
    [[nodiscard]] const std::string& note(Kind k) const;
    [[nodiscard]] double reading_epsilon() const noexcept { return m_eps; }
    // Laplace b in the value's unit, for a numeric kind.
    [[nodiscard]] double scale(Kind k) const;

private:
    struct Numeric {
        EdgeRange range;
        double grid = 0;
        std::uint64_t s = 0, t = 0; // P(z) ~ exp(-|z| s / t), z in grid steps
        std::string note;
    };
    [[nodiscard]] const Numeric* numeric(Kind k) const;
    double m_eps = 0;
    std::uint64_t m_eps_num = 0; // floor(epsilon * 2^20)
    Numeric m_temperature, m_humidity, m_light;
    std::string m_motion_note;
};

// The samplers, exposed for the tests. P(Y = y) ~ exp(-|y| s / t) on the integers.
[[nodiscard]] std::int64_t edge_discrete_laplace(Random& rng, std::uint64_t s, std::uint64_t t);
// The true bit with probability 1 / (1 + exp(-eps_num / 2^20)).
[[nodiscard]] bool edge_randomized_response(bool truth, std::uint64_t eps_num, Random& rng);

} // namespace iots::fw
