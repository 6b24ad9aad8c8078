#pragma once
// The monotonic clock the service times its state writes and waiting scores with.
#include "iotshield/core/time.hpp"

#include <chrono>

namespace iots::score {

inline core::Millis monotonic_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

} // namespace iots::score
