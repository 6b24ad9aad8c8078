#pragma once
// The typical step of a series: a running mean of the absolute differences between consecutive
// readings, each capped at six typical steps so one jump does not make the unit, and unchanged
// readings left out so a quantised series keeps a non-zero unit.

#include <algorithm>
#include <cmath>

namespace iots::detect {

inline void learn_typical_step(double& step, double previous, double value) noexcept {
    const double d = std::fabs(value - previous);
    if (!(d > 0))
        return;
    if (step > 0)
        step += (std::min(d, 6.0 * step) - step) / 64.0;
    else
        step = d;
}

} // namespace iots::detect
