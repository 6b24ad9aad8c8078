#pragma once
// Where the privacy module's randomness comes from. Mechanisms take a RandomSource&: the operating
// system's CSPRNG (getrandom(2)) in the tools, a seeded generator in tests and benches only.
#include <array>
#include <cstddef>
#include <cstdint>

namespace iots::privacy {

class RandomSource {
public:
    RandomSource() = default;
    virtual ~RandomSource() = default;
    RandomSource(const RandomSource&) = delete;
    RandomSource& operator=(const RandomSource&) = delete;
    // 64 uniformly random bits.
    virtual std::uint64_t next() = 0;
};

// getrandom(2), read 256 bytes at a time. Throws iots::Error(failure) if the kernel refuses.
class SystemRandom final : public RandomSource {
public:
    SystemRandom() = default;
    std::uint64_t next() override;

private:
    std::array<std::uint64_t, 32> m_buf{};
    std::size_t m_left = 0;
};

// xoshiro256** seeded through splitmix64: deterministic, NOT for releases (tests, benches).
class SeededRandom final : public RandomSource {
public:
    explicit SeededRandom(std::uint64_t seed);
    std::uint64_t next() override;

private:
    std::array<std::uint64_t, 4> m_s{};
};

} // namespace iots::privacy
