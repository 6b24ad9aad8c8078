#define BOOST_TEST_MODULE privacy_mechanism
// Calibration arithmetic, the grid mechanisms against their continuous targets (Kolmogorov-
// Smirnov at significance 0.001: D < 1.949 / sqrt(N)), the floating-point attack, randomized
// response's rates, noisy counts and the budget arithmetic. Seeds are fixed.
#include "iotshield/privacy/budget.hpp"
#include "iotshield/privacy/calibrate.hpp"
#include "iotshield/privacy/mechanism.hpp"
#include "iotshield/privacy/random.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <stdexcept>
#include <vector>

using namespace iots::privacy;

namespace {
double ks(std::vector<double> xs, const std::function<double(double)>& cdf) {
    std::sort(xs.begin(), xs.end());
    const auto n = static_cast<double>(xs.size());
    double d = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        // The samples sit on a grid: compare the CDF at the grid point on both sides of its jump.
        const double f = cdf(xs[i]);
        d = std::max({d, static_cast<double>(i + 1) / n - f, f - static_cast<double>(i) / n});
    }
    return d;
}
double laplace_cdf(double x, double b) {
    return x < 0 ? 0.5 * std::exp(x / b) : 1 - 0.5 * std::exp(-x / b);
}
double normal_cdf(double x, double sigma) {
    return 0.5 * std::erfc(-x / (sigma * std::sqrt(2.0)));
}
} // namespace

BOOST_AUTO_TEST_CASE(laplace_scale_is_sensitivity_over_epsilon) {
    // A clamp of [10, 35] C and the whole window as the unit: sensitivity 25; at eps = 0.5,
    // b = 25 / 0.5 = 50. Not eps * sensitivity (the seed's normal(0, eps * sens) grew with eps).
    BOOST_TEST(laplace_scale(25, 0.5) == 50.0);
    BOOST_TEST(laplace_scale(1, 2) == 0.5);
    BOOST_CHECK_THROW((void)laplace_scale(0, 1), std::invalid_argument);
    BOOST_CHECK_THROW((void)laplace_scale(1, 0), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(gaussian_classic_bound) {
    // sigma = 1 * sqrt(2 ln(1.25 / 1e-5)) / 0.5 = sqrt(2 * 11.7361) / 0.5 = 4.8448 / 0.5 = 9.6896
    BOOST_TEST(std::fabs(gaussian_sigma_classic(1, 0.5, 1e-5) - 9.6896) < 1e-3);
    BOOST_CHECK_THROW((void)gaussian_sigma_classic(1, 1.0, 1e-5), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(gaussian_analytic_calibration) {
    // The analytic sigma meets delta exactly (Balle and Wang, Theorem 8) and is below the classic
    // bound where that holds: eps 0.5, delta 1e-5: classic 9.69.
    for (double eps : {0.1, 0.5, 1.0, 2.0, 5.0}) {
        const double s = gaussian_sigma_analytic(1, eps, 1e-5);
        BOOST_TEST(gaussian_delta(1, eps, s) <= 1e-5);
        BOOST_TEST(gaussian_delta(1, eps, s * (1 - 1e-6)) > 1e-5); // the smallest, to 1e-6
        if (eps < 1)
            BOOST_TEST(s < gaussian_sigma_classic(1, eps, 1e-5));
    }
    // Scales with the sensitivity: sigma(25) = 25 sigma(1).
    BOOST_TEST(
        std::fabs(gaussian_sigma_analytic(25, 1, 1e-6) / gaussian_sigma_analytic(1, 1, 1e-6) - 25) <
        1e-6);
    // Balle and Wang's Figure: at eps = 1, delta = 1e-5 the analytic sigma is about 3.73.
    BOOST_TEST(std::fabs(gaussian_sigma_analytic(1, 1, 1e-5) - 3.73) < 0.01);
}

BOOST_AUTO_TEST_CASE(discrete_gaussian_delta_is_close_to_the_continuous) {
    // For sigma well above 1 the discrete Gaussian's delta is close to the continuous one
    // (CKS 2020, Figure 1): sigma = 40, sensitivity 10, eps 1.
    const double dc = gaussian_delta(10, 1, 40);
    const double dd = discrete_gaussian_delta(10, 1, 1600);
    BOOST_TEST(std::fabs(dd - dc) < 0.05 * dc);
}

BOOST_AUTO_TEST_CASE(laplace_release_is_laplace_of_scale_b) {
    const GridMechanism m = make_laplace(25, 0.5); // b = 50
    BOOST_TEST(std::fabs(m.scale() - 50) < 50 * 1e-3);
    BOOST_TEST(m.grid == std::ldexp(1.0, -5)); // floor(log2 50) = 5, 5 - 10 = -5: 1/32
    BOOST_TEST(m.grid_sensitivity == 800u);    // 25 * 32
    SeededRandom rng(7);
    std::vector<double> xs;
    const int n = 100000;
    for (int i = 0; i < n; ++i)
        xs.push_back(release(m, 20.0, rng) - 20.0);
    const double d = ks(xs, [](double x) { return laplace_cdf(x, 50); });
    BOOST_TEST_MESSAGE("KS D = " << d);
    BOOST_TEST(d < 1.949 / std::sqrt(n));
}

BOOST_AUTO_TEST_CASE(gaussian_release_is_normal_of_its_sigma) {
    const GridMechanism m = make_gaussian(25, 1.0, 1e-6);
    const double sigma = gaussian_sigma_analytic(25, 1.0, 1e-6);
    BOOST_TEST(m.scale() >= sigma * (1 - 1e-3)); // never less noise than asked
    BOOST_TEST(m.scale() <= sigma * 1.01);
    SeededRandom rng(8);
    std::vector<double> xs;
    const int n = 100000;
    for (int i = 0; i < n; ++i)
        xs.push_back(release(m, 0.0, rng));
    const double s = m.scale();
    const double d = ks(xs, [s](double x) { return normal_cdf(x, s); });
    BOOST_TEST_MESSAGE("KS D = " << d);
    BOOST_TEST(d < 1.949 / std::sqrt(n));
}

BOOST_AUTO_TEST_CASE(outputs_do_not_reveal_the_low_order_bits_of_the_input) {
    // Mironov 2012: x + b * log(u) in floating point reaches a different set of doubles for each
    // x, so one output can tell two adjacent inputs apart. Here every output is a multiple of the
    // grid, for every input: the set of reachable outputs is the same grid for adjacent inputs.
    for (const GridMechanism& m : {make_laplace(25, 0.5), make_gaussian(25, 1.0, 1e-6)}) {
        const double x = 21.3;
        const double adjacent[] = {std::nextafter(x, 100.0), x + 1e-9, x + 3 * m.grid + 1e-7,
                                   x + 25};
        for (double y : adjacent) {
            SeededRandom ra(9), rb(9);
            std::set<double> low_x, low_y;
            for (int i = 0; i < 20000; ++i) {
                const double ox = release(m, x, ra);
                const double oy = release(m, y, rb);
                BOOST_TEST(std::fmod(ox, m.grid) == 0.0);
                BOOST_TEST(std::fmod(oy, m.grid) == 0.0);
                // The output's position inside a coarser cell: spread alike for x and y.
                low_x.insert(std::fmod(std::fabs(ox), 64 * m.grid));
                low_y.insert(std::fmod(std::fabs(oy), 64 * m.grid));
            }
            BOOST_TEST(low_x.size() == 64u);
            BOOST_TEST(low_y.size() == 64u);
        }
        // Inputs within one grid cell give the same output from the same random bits.
        SeededRandom ra(10), rb(10);
        for (int i = 0; i < 1000; ++i)
            BOOST_TEST(release(m, x, ra) == release(m, std::nextafter(x, 100.0), rb));
    }
}

BOOST_AUTO_TEST_CASE(randomized_response_rates) {
    // eps = ln 3: the truth with probability 3 / 4. N = 400000: se = sqrt(3/16 / 400000) =
    // 0.00068; the 0.001 two-sided test allows 3.29 se.
    const double eps = std::log(3.0);
    BOOST_TEST(std::fabs(rr_truth_probability(eps) - 0.75) < 1e-6);
    SeededRandom rng(12);
    const long n = 400000;
    long kept1 = 0, kept0 = 0;
    for (long i = 0; i < n; ++i) {
        kept1 += randomized_response(true, eps, rng) ? 1 : 0;
        kept0 += randomized_response(false, eps, rng) ? 0 : 1;
    }
    const double p = rr_truth_probability(eps);
    const double se = std::sqrt(p * (1 - p) / n);
    BOOST_TEST(std::fabs(static_cast<double>(kept1) / n - p) < 3.29 * se);
    BOOST_TEST(std::fabs(static_cast<double>(kept0) / n - p) < 3.29 * se);
    // The estimate inverts the rates: a true fraction of 0.3 is reported as
    // 0.3 * 0.75 + 0.7 * 0.25 = 0.4, and estimated back as (0.4 - 0.25) / 0.5 = 0.3.
    BOOST_TEST(std::fabs(rr_estimate(0.4, eps) - 0.3) < 1e-6);
}

BOOST_AUTO_TEST_CASE(noisy_count_is_clamped_and_unbiased) {
    // max_count 60, eps 1: discrete Laplace of scale 60, variance about 2 * 60^2 = 7200.
    SeededRandom rng(13);
    const long n = 200000;
    double sum = 0, sum2 = 0;
    for (long i = 0; i < n; ++i) {
        const auto c = static_cast<double>(noisy_count(500, 60, 1.0, rng)); // clamped to 60
        sum += c;
        sum2 += c * c;
    }
    const double mean = sum / n;
    const double var = sum2 / n - mean * mean;
    // se of the mean: sqrt(7200 / 200000) = 0.19; 3.29 se = 0.62.
    BOOST_TEST(std::fabs(mean - 60) < 0.62);
    BOOST_TEST(std::fabs(var / 7200 - 1) < 0.05);
    BOOST_CHECK_THROW((void)noisy_count(1, 0, 1.0, rng), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(clamp_holds_the_range) {
    BOOST_TEST(clamp(-5, {0, 10}) == 0.0);
    BOOST_TEST(clamp(50, {0, 10}) == 10.0);
    BOOST_TEST(clamp(3.5, {0, 10}) == 3.5);
    BOOST_TEST(clamp(std::nan(""), {0, 10}) == 0.0);
}

BOOST_AUTO_TEST_CASE(epsilon_out_of_range_is_refused) {
    BOOST_CHECK_THROW((void)make_laplace(1, 0), std::invalid_argument);
    BOOST_CHECK_THROW((void)make_laplace(1, 65), std::invalid_argument);
    BOOST_CHECK_THROW((void)make_laplace(1, 1e-9), std::invalid_argument);
    BOOST_CHECK_THROW((void)make_gaussian(1, 1, 0), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(budget_basic_composition) {
    // Ten releases of eps 0.1 fill a budget of 1 (their double sum is 0.9999999999999999); an
    // eleventh does not fit.
    Cost spent;
    for (int i = 0; i < 10; ++i) {
        BOOST_TEST(fits(spent, {0.1, 0}, {1.0, 0}));
        spent += {0.1, 0};
    }
    BOOST_TEST(!fits(spent, {0.1, 0}, {1.0, 0}));
    BOOST_TEST(!fits({}, {0.5, 2e-6}, {1.0, 1e-6})); // delta too
    BOOST_TEST(fits({0.4, 5e-7}, {0.6, 5e-7}, {1.0, 1e-6}));
    BOOST_TEST(left({0.4, 0}, {1.0, 0}).epsilon == 0.6);
    BOOST_TEST(left({1.4, 0}, {1.0, 0}).epsilon == 0.0);
    BOOST_TEST(describe({0.6, 0}) == "epsilon 0.6");
    BOOST_TEST(describe({0.6, 1e-6}) == "epsilon 0.6, delta 1e-06");
}

BOOST_AUTO_TEST_CASE(laplace_scale_holds_far_below_epsilon_one) {
    // Edge noise splits a day's epsilon over 10^5 readings or more. Sensitivity 100 at epsilon
    // 1e-5: b = 100 / 1e-5 = 1e7. The grid follows the sensitivity here (2^(6 - 6) = 1: 100 steps
    // to it, ceil overstates nothing), not the scale (2^(23 - 10) = 8192 would round 100 up to one
    // step of 8192, 82 times the noise asked). Epsilon is used as floor(1e-5 * 2^20) / 2^20 =
    // 10 / 2^20 (never more than declared): b = 100 * 2^20 / 10 = 1.048576e7.
    const GridMechanism m = make_laplace(100, 1e-5);
    BOOST_TEST(m.grid == 1.0);
    BOOST_TEST(m.grid_sensitivity == 100u);
    BOOST_TEST(std::fabs(m.scale() / 1.048576e7 - 1) < 1e-9);
    // The discrete Gaussian cannot go that far (sigma up to 512 sensitivities): refused on setup,
    // not on the first sample.
    BOOST_CHECK_THROW((void)make_gaussian(100, 1e-5, 1e-6), std::invalid_argument);
}
