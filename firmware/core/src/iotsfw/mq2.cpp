#include "iotsfw/mq2.hpp"

#include <cmath>

namespace iots::fw {

double mq2_rs_kohm(std::uint16_t raw, const Mq2Config& c) {
    if (raw == 0 || raw >= c.adc_max)
        return -1;
    const double v_pin = static_cast<double>(raw) / c.adc_max * c.vref;
    const double v_ao = v_pin / c.divider_k;
    if (v_ao >= c.vc)
        return -1;
    return c.rl_kohm * (c.vc - v_ao) / v_ao;
}

double mq2_ppm(double ratio, const Mq2Curve& curve) {
    const double m = (std::log10(curve.ratio2) - std::log10(curve.ratio1)) /
                     (std::log10(curve.ppm2) - std::log10(curve.ppm1));
    const double log_ppm =
        std::log10(curve.ppm1) + (std::log10(ratio) - std::log10(curve.ratio1)) / m;
    return std::pow(10.0, log_ppm);
}

double mq2_r0_from_clean_air(double rs_kohm) {
    return rs_kohm / kMq2CleanAirRatio;
}

Mq2Reading mq2_read(std::uint16_t raw, double r0_kohm, const Mq2Config& c) {
    Mq2Reading r;
    if (raw == 0) {
        r.status = Mq2Reading::Status::open;
        return r;
    }
    const double rs = mq2_rs_kohm(raw, c);
    if (rs <= 0 || r0_kohm <= 0) {
        r.status = Mq2Reading::Status::saturated;
        return r;
    }
    r.ppm = mq2_ppm(rs / r0_kohm, c.curve);
    if (r.ppm > kMq2MaxPpm) {
        r.ppm = kMq2MaxPpm;
        r.over_range = true;
    }
    return r;
}

} // namespace iots::fw
