#pragma once
// A small seeded PRNG whose output is the same on every machine: xoshiro256** (Blackman, Vigna
// 2018) seeded through splitmix64, uniform doubles from the top 53 bits, and a Box-Muller normal
// written here because std::normal_distribution differs between standard libraries.
#include <cmath>
#include <cstdint>

namespace iots::sim {

[[nodiscard]] constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27U)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31U);
}

// A stream id from a seed and a tag (device index, day number, incident number, ...).
[[nodiscard]] constexpr std::uint64_t mix(std::uint64_t seed, std::uint64_t a,
                                          std::uint64_t b = 0) noexcept {
    return splitmix64(splitmix64(splitmix64(seed) ^ a) ^ (b * 0xD1B54A32D192ED03ULL));
}

class Rng {
public:
    explicit Rng(std::uint64_t seed = 0) noexcept {
        std::uint64_t x = seed;
        for (auto& s : m_s) {
            x = splitmix64(x);
            s = x;
        }
    }

    // A given state, for known-answer tests against the reference implementation.
    static Rng from_state(std::uint64_t a, std::uint64_t b, std::uint64_t c,
                          std::uint64_t d) noexcept {
        Rng r;
        r.m_s[0] = a;
        r.m_s[1] = b;
        r.m_s[2] = c;
        r.m_s[3] = d;
        return r;
    }

    std::uint64_t next() noexcept {
        const std::uint64_t result = rotl(m_s[1] * 5, 7) * 9;
        const std::uint64_t t = m_s[1] << 17U;
        m_s[2] ^= m_s[0];
        m_s[3] ^= m_s[1];
        m_s[1] ^= m_s[2];
        m_s[0] ^= m_s[3];
        m_s[2] ^= t;
        m_s[3] = rotl(m_s[3], 45);
        return result;
    }

    // [0, 1), 53 random bits.
    double uniform() noexcept { return static_cast<double>(next() >> 11U) * 0x1.0p-53; }
    double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
    bool chance(double p) noexcept { return uniform() < p; }
    // 0 .. n-1 (n small: the modulo bias of floor(u*n) is below 2^-40).
    std::uint64_t below(std::uint64_t n) noexcept {
        return static_cast<std::uint64_t>(uniform() * static_cast<double>(n));
    }
    // Standard normal by Box-Muller; always consumes exactly two uniforms.
    double normal() noexcept {
        const double u1 = 1.0 - uniform(); // (0, 1]: log stays finite
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
    }
    double exponential(double mean) noexcept { return -mean * std::log(1.0 - uniform()); }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) noexcept {
        return (x << static_cast<unsigned>(k)) | (x >> static_cast<unsigned>(64 - k));
    }
    std::uint64_t m_s[4]{};
};

} // namespace iots::sim
