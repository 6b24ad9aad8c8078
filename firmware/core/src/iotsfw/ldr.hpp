#pragma once
// The LDR (a GL55xx cadmium-sulphide cell): ADC counts → resistance → approximate lux.
//
// Wiring: Vcc (3.3 V) — LDR — pin — R_fixed (10 kΩ) — GND, so more light is a higher voltage:
//     V = Vcc · Rf / (R_ldr + Rf)   ⇒   R_ldr = Rf · (Vcc − V) / V,   V = raw / adc_max · Vref.
// A CdS cell follows a power law between 10 and 100 lux (the datasheets' gamma):
//     R = R10 · (lux / 10)^(−γ)   ⇒   lux = 10 · (R / R10)^(−1/γ),
//     γ = log(R10 / R100) / log(100 / 10).
// Senba GL5528: R10 = 10 … 20 kΩ (15 kΩ taken), γ = 0.6, dark resistance 1 MΩ. So
//     10 lux ↔ 15 kΩ, 100 lux ↔ 15 kΩ · 10^−0.6 = 3.77 kΩ, dark (1 MΩ) ↔ 10 · (1000/15)^(−1/0.6) =
//     0.009 lux.
// Approximate by nature: R10 varies ±33 % from part to part (a factor 2 in lux, as 1/γ = 1.67),
// the law bends above 1000 lux, and the ESP32 ADC is not linear near its rails. Good for "dark,
// lamp, daylight", not for a light meter. Other parts: GL5516 (5-10 kΩ, γ 0.5), GL5537 (20-30 kΩ,
// γ 0.6), GL5539 (50-100 kΩ, γ 0.7).
#include <cstdint>

namespace iots::fw {

struct LdrConfig {
    double vcc = 3.3;  // divider supply, V
    double vref = 3.3; // ADC full scale, V
    double r_fixed_kohm = 10;
    double r10_kohm = 15; // resistance at 10 lux
    double gamma = 0.6;
    std::uint16_t adc_max = 4095;
};
inline constexpr double kLdrMaxLux = 100000; // the record's light range

// The LDR's resistance in kΩ, negative at full scale (R = 0: saturated or shorted); 0 counts is
// an open cell (infinitely dark), returned as +infinity.
[[nodiscard]] double ldr_resistance_kohm(std::uint16_t raw, const LdrConfig& c);
// Lux for a resistance (kΩ, > 0), capped at 100000.
[[nodiscard]] double ldr_lux_from_resistance(double r_kohm, const LdrConfig& c);
// Lux for a raw value; negative when saturated (no reading: a fault).
[[nodiscard]] double ldr_lux(std::uint16_t raw, const LdrConfig& c);

} // namespace iots::fw
