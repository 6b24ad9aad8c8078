#pragma once
// The MQ-2 gas sensor: ADC counts → sensor resistance Rs → Rs/R0 → ppm on the datasheet's curve.
//
// The module (FC-22 and alikes) is a divider: Vc (5 V) — Rs — AO — RL — GND, so
//     V_AO = Vc · RL / (Rs + RL)   ⇒   Rs = RL · (Vc − V_AO) / V_AO.
// AO swings up to 5 V and the ESP32 pin takes 3.3 V at most, so AO reaches the pin through a
// divider of ratio k (10 kΩ over 20 kΩ: k = 2/3): V_pin = k · V_AO, V_pin = raw / adc_max · Vref.
// (That divider's 30 kΩ also loads AO, in parallel with RL: 5 kΩ ‖ 30 kΩ = 4.29 kΩ. RL only
// scales Rs, and R0 is measured through the same circuit, so Rs/R0 and the ppm do not depend on
// it; only the absolute Rs and R0 in the log do.)
//
// The datasheet (Hanwei MQ-2, Fig. 2 "sensitivity characteristics", a log-log chart of Rs/R0 over
// ppm at 20 °C, 65 % RH, Vc 5 V, RL 5 kΩ; R0 is Rs at 1000 ppm H2) draws each gas as nearly a
// straight line in log-log. Read off the chart at its ends:
//     LPG:   200 ppm → Rs/R0 = 1.62,   10000 ppm → Rs/R0 = 0.26
//     smoke: 200 ppm → Rs/R0 = 3.40,   10000 ppm → Rs/R0 = 0.605
//     clean air: Rs/R0 = 9.83 (flat line; this is how R0 is calibrated)
// The line through (log p1, log r1) and (log p2, log r2) has slope
//     m = (log r2 − log r1) / (log p2 − log p1)
//     LPG:   m = (log 0.26 − log 1.62) / (log 10000 − log 200) = (−0.5850 − 0.2095) / 1.6990 =
//     −0.4676 smoke: m = (log 0.605 − log 3.40) / 1.6990 = (−0.2182 − 0.5315) / 1.6990 = −0.4413
// and a ratio r gives
//     log ppm = log p1 + (log r − log r1) / m.
// Outside 200 … 10000 ppm the datasheet draws nothing: below, the line is extrapolated (an
// approximation, flagged nowhere: small values are what clean air gives); above, see Mq2Reading.
#include <cstdint>

namespace iots::fw {

struct Mq2Curve {
    double ppm1, ratio1; // one end of the datasheet line
    double ppm2, ratio2; // the other end
};
inline constexpr Mq2Curve kMq2Lpg{200, 1.62, 10000, 0.26};
inline constexpr Mq2Curve kMq2Smoke{200, 3.40, 10000, 0.605};
inline constexpr double kMq2CleanAirRatio = 9.83; // Rs/R0 in clean air (datasheet)
inline constexpr double kMq2MaxPpm = 10000;       // the chart's top, the record's gas range

struct Mq2Config {
    double vc = 5.0;              // heater and divider supply, V
    double rl_kohm = 5.0;         // load resistor on the module (check yours: 1 kΩ on some)
    double vref = 3.3;            // ADC full scale at 11 dB attenuation, V
    double divider_k = 2.0 / 3.0; // V_pin / V_AO
    std::uint16_t adc_max = 4095;
    Mq2Curve curve = kMq2Lpg;
};

// Rs in kΩ for a raw ADC value, or a negative number when the value cannot be one: 0 counts
// (AO at ground: the sensor is unplugged or its heater is cold) or full scale (saturated).
[[nodiscard]] double mq2_rs_kohm(std::uint16_t raw, const Mq2Config& c);
// ppm on the curve for a ratio Rs/R0 (> 0).
[[nodiscard]] double mq2_ppm(double ratio, const Mq2Curve& curve);
// R0 from Rs measured in clean air: R0 = Rs / 9.83.
[[nodiscard]] double mq2_r0_from_clean_air(double rs_kohm);

struct Mq2Reading {
    enum class Status : std::uint8_t { ok, open, saturated };
    Status status = Status::ok;
    double ppm = 0;
    bool over_range = false; // the curve gave more than 10000 ppm: value is 10000
};
[[nodiscard]] Mq2Reading mq2_read(std::uint16_t raw, double r0_kohm, const Mq2Config& c);

} // namespace iots::fw
