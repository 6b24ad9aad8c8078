// The firmware's MQ-2 and LDR arithmetic against the datasheet points it is built on
// (firmware/core/src/iotsfw/mq2.hpp and ldr.hpp write the derivations out).
#define BOOST_TEST_MODULE firmware_curves
#include "firmware_fakes.hpp"
#include "iotsfw/ldr.hpp"
#include "iotsfw/mq2.hpp"
#include "iotsfw/node.hpp"

#include <boost/test/tools/floating_point_comparison.hpp>
#include <boost/test/unit_test.hpp>

#include <cmath>

namespace tt = boost::test_tools;
using namespace iots::fw;

namespace {
// The raw ADC value the module gives for a sensor resistance (the inverse of mq2_rs_kohm):
// V_AO = Vc·RL/(Rs+RL), V_pin = k·V_AO, raw = V_pin/Vref·4095, rounded as an ADC does.
std::uint16_t mq2_raw_for(double rs_kohm, const Mq2Config& c = {}) {
    const double v_ao = c.vc * c.rl_kohm / (rs_kohm + c.rl_kohm);
    return static_cast<std::uint16_t>(std::lround(v_ao * c.divider_k / c.vref * c.adc_max));
}
// The LDR's: V = Vcc·Rf/(R+Rf), raw = V/Vref·4095.
std::uint16_t ldr_raw_for(double r_kohm, const LdrConfig& c = {}) {
    const double v = c.vcc * c.r_fixed_kohm / (r_kohm + c.r_fixed_kohm);
    return static_cast<std::uint16_t>(std::lround(v / c.vref * c.adc_max));
}
} // namespace

// The line goes through both ends read off the datasheet chart: exact up to rounding (0.01 %).
BOOST_AUTO_TEST_CASE(mq2_curves_pass_through_the_datasheet_points) {
    BOOST_TEST(mq2_ppm(1.62, kMq2Lpg) == 200.0, tt::tolerance(1e-4));
    BOOST_TEST(mq2_ppm(0.26, kMq2Lpg) == 10000.0, tt::tolerance(1e-4));
    BOOST_TEST(mq2_ppm(3.40, kMq2Smoke) == 200.0, tt::tolerance(1e-4));
    BOOST_TEST(mq2_ppm(0.605, kMq2Smoke) == 10000.0, tt::tolerance(1e-4));
}

// Straight in log-log: the geometric mean of the two ratios gives the geometric mean of the two
// concentrations, sqrt(200 · 10000) = 1414.2 ppm; and the slope is the documented −0.4676:
// doubling ppm multiplies Rs/R0 by 2^−0.4676 = 0.7231.
BOOST_AUTO_TEST_CASE(mq2_curve_is_a_line_in_log_log) {
    BOOST_TEST(mq2_ppm(std::sqrt(1.62 * 0.26), kMq2Lpg) == std::sqrt(200.0 * 10000.0),
               tt::tolerance(1e-4));
    const double r1000 = 1.62 * std::pow(1000.0 / 200.0, -0.4676);
    const double r2000 = 1.62 * std::pow(2000.0 / 200.0, -0.4676);
    BOOST_TEST(mq2_ppm(r1000, kMq2Lpg) == 1000.0, tt::tolerance(1e-3)); // slope rounded to 4 digits
    BOOST_TEST(r2000 / r1000 == 0.7231, tt::tolerance(1e-3));
    // Clean air (Rs/R0 = 9.83) on the LPG line: 200 · (9.83/1.62)^(1/−0.4676) = 4.25 ppm.
    BOOST_TEST(mq2_ppm(kMq2CleanAirRatio, kMq2Lpg) == 4.25, tt::tolerance(0.01));
}

// Rs = RL·(Vc − V_AO)/V_AO: at V_AO = Vc/2 = 2.5 V, Rs = RL = 5 kΩ; V_pin = 2/3 · 2.5 = 1.667 V,
// raw = 1.667/3.3 · 4095 = 2068. One ADC count is 0.05 % there: tolerance 0.1 %.
BOOST_AUTO_TEST_CASE(mq2_resistance_from_the_divider) {
    BOOST_TEST(mq2_raw_for(5.0) == 2068);
    BOOST_TEST(mq2_rs_kohm(2068, {}) == 5.0, tt::tolerance(1e-3));
    BOOST_TEST(mq2_rs_kohm(0, {}) < 0);    // AO at ground: unplugged
    BOOST_TEST(mq2_rs_kohm(4095, {}) < 0); // full scale: saturated
}

// ADC → Rs → Rs/R0 → ppm with R0 = 10 kΩ: the raw value of Rs = 16.2 kΩ (ratio 1.62) reads
// 200 ppm, that of 2.6 kΩ (0.26) 10000 ppm. The ADC's rounding moves Rs by under 0.2 %, ppm by
// under 1/0.4676 of that: tolerance 1 %.
BOOST_AUTO_TEST_CASE(mq2_adc_to_ppm_at_the_datasheet_points) {
    const Mq2Reading low = mq2_read(mq2_raw_for(16.2), 10.0, {});
    BOOST_TEST((low.status == Mq2Reading::Status::ok));
    BOOST_TEST(low.ppm == 200.0, tt::tolerance(0.01));
    const Mq2Reading high = mq2_read(mq2_raw_for(2.6), 10.0, {});
    BOOST_TEST(high.ppm == 10000.0, tt::tolerance(0.01));
    BOOST_TEST(!high.over_range);
}

// Above the chart: the value is the top of the range (10000, what ingest accepts) and marked.
BOOST_AUTO_TEST_CASE(mq2_above_the_chart_is_capped_and_marked) {
    const Mq2Reading r = mq2_read(mq2_raw_for(1.0), 10.0, {}); // ratio 0.1: ~77,000 ppm on the line
    BOOST_TEST((r.status == Mq2Reading::Status::ok));
    BOOST_TEST(r.ppm == kMq2MaxPpm);
    BOOST_TEST(r.over_range);
    BOOST_TEST((mq2_read(0, 10.0, {}).status == Mq2Reading::Status::open));
    BOOST_TEST((mq2_read(4095, 10.0, {}).status == Mq2Reading::Status::saturated));
}

// Calibration in clean air: Rs = 9.83 · R0, so a board whose sensor has R0 = 10 kΩ reads Rs =
// 98.3 kΩ and stores R0 = 98.3/9.83 = 10 kΩ (1 %: at 98.3 kΩ one ADC count is 0.4 % of Rs), in
// flash, where the next boot finds it.
BOOST_AUTO_TEST_CASE(mq2_clean_air_calibration_is_stored_and_reloaded) {
    fwtest::FakeBoard board;
    fwtest::FakeStore store;
    fwtest::FakeTransport transport;
    board.mq2 = mq2_raw_for(98.3);
    NodeConfig config;
    config.mq2_auto_calibrate = false;
    {
        Node node(config, board, store, transport);
        node.begin();
        BOOST_TEST(node.mq2_r0_kohm() == 0.0);
        BOOST_TEST(node.calibrate_mq2());
        BOOST_TEST(node.mq2_r0_kohm() == 10.0, tt::tolerance(0.01));
    }
    BOOST_TEST(store.dbl.at(kR0Key) == 10.0, tt::tolerance(0.01));
    Node rebooted(config, board, store, transport);
    rebooted.begin();
    BOOST_TEST(rebooted.mq2_r0_kohm() == store.dbl.at(kR0Key));
    board.mq2 = 0; // unplugged: nothing stored
    BOOST_TEST(!rebooted.calibrate_mq2());
}

// GL5528 (R10 = 15 kΩ, γ = 0.6): 15 kΩ is 10 lux; 15 · 10^−0.6 = 3.768 kΩ is 100 lux. Through the
// 10 kΩ divider and the ADC: 10 lux is V = 3.3·10/25 = 1.32 V (raw 1638), 100 lux V = 2.397 V
// (raw 2974). One count moves lux by under 0.2 % there: tolerance 1 %.
BOOST_AUTO_TEST_CASE(ldr_lux_at_the_datasheet_points) {
    const LdrConfig c;
    BOOST_TEST(ldr_lux_from_resistance(15.0, c) == 10.0, tt::tolerance(1e-9));
    BOOST_TEST(ldr_lux_from_resistance(15.0 * std::pow(10.0, -0.6), c) == 100.0,
               tt::tolerance(1e-9));
    BOOST_TEST(ldr_raw_for(15.0) == 1638);
    BOOST_TEST(ldr_lux(1638, c) == 10.0, tt::tolerance(0.01));
    BOOST_TEST(ldr_raw_for(3.768) == 2974);
    BOOST_TEST(ldr_lux(2974, c) == 100.0, tt::tolerance(0.01));
    // Gamma is the slope: γ = log(R10/R100)/log(100/10) = 0.6.
    BOOST_TEST(std::log10(ldr_resistance_kohm(1638, c) / ldr_resistance_kohm(2974, c)) == 0.6,
               tt::tolerance(0.01));
    // Dark (1 MΩ, the datasheet's dark resistance): 10 · (1000/15)^(−1/0.6) = 0.0091 lux.
    BOOST_TEST(ldr_lux_from_resistance(1000.0, c) == 0.0091, tt::tolerance(0.01));
}

BOOST_AUTO_TEST_CASE(ldr_ends_of_the_adc) {
    const LdrConfig c;
    BOOST_TEST(ldr_lux(0, c) == 0.0);           // open cell or pitch dark
    BOOST_TEST(ldr_lux(4095, c) < 0.0);         // shorted or beyond the ADC: a fault, not a number
    BOOST_TEST(ldr_lux(4094, c) == kLdrMaxLux); // 2.4 Ω: capped at the record's range
}
