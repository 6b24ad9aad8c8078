#pragma once
// Checks for a layer's state read back as raw bytes (state_file.hpp): what a state_valid() needs
// before any member is used.
#include <cstring>

namespace iots::detect {

// A bool's byte is 0 or 1; loading any other byte as a bool is undefined, so it is looked at as a
// byte.
[[nodiscard]] inline bool valid_bool(const bool& b) noexcept {
    unsigned char c = 0;
    std::memcpy(&c, &b, 1);
    return c <= 1;
}

} // namespace iots::detect
