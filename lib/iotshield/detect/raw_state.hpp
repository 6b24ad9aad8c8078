#pragma once
// Checks for a layer's state read back as raw bytes (state_file.hpp): what a state_valid() needs
// before any member is used.
#include <cstdint>
#include <cstring>

namespace iots::detect {

// A bool's byte is 0 or 1; loading any other byte as a bool is undefined, so it is looked at as a
// byte.
[[nodiscard]] inline bool valid_bool(const bool& b) noexcept {
    unsigned char c = 0;
    std::memcpy(&c, &b, 1);
    return c <= 1;
}

// A timestamp or interval read back from a file: within 2^53 ms (285,000 years) of the epoch, so
// that differences of two of them, or with a reading's timestamp, cannot overflow.
[[nodiscard]] inline bool valid_time(std::int64_t t) noexcept {
    constexpr std::int64_t kLimit = std::int64_t{1} << 53;
    return t >= -kLimit && t <= kLimit;
}

} // namespace iots::detect
