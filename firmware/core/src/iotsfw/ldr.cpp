#include "iotsfw/ldr.hpp"

#include <cmath>
#include <limits>

namespace iots::fw {

double ldr_resistance_kohm(std::uint16_t raw, const LdrConfig& c) {
    if (raw == 0)
        return std::numeric_limits<double>::infinity();
    const double v = static_cast<double>(raw) / c.adc_max * c.vref;
    if (raw >= c.adc_max || v >= c.vcc)
        return -1;
    return c.r_fixed_kohm * (c.vcc - v) / v;
}

double ldr_lux_from_resistance(double r_kohm, const LdrConfig& c) {
    if (std::isinf(r_kohm))
        return 0;
    const double lux = 10.0 * std::pow(r_kohm / c.r10_kohm, -1.0 / c.gamma);
    return lux > kLdrMaxLux ? kLdrMaxLux : lux;
}

double ldr_lux(std::uint16_t raw, const LdrConfig& c) {
    const double r = ldr_resistance_kohm(raw, c);
    if (r < 0)
        return -1;
    return ldr_lux_from_resistance(r, c);
}

} // namespace iots::fw
