#include "iotshield/privacy/mechanism.hpp"

#include "iotshield/privacy/calibrate.hpp"
#include "iotshield/privacy/discrete.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace iots::privacy {

namespace {
constexpr std::uint64_t kEpsilonDen = std::uint64_t{1} << 20;
constexpr std::uint64_t kSigma2Den = 256;
// The grid is 2^(floor(log2 scale) - 10): 1024 to 2048 grid steps per unit of noise scale, so the
// rounding to the grid costs under 0.1% of the noise, and the integers stay small.
constexpr int kGridStepsLog2 = 10;

std::uint64_t epsilon_num(double epsilon) {
    if (!(epsilon > 0) || !(epsilon <= kMaxEpsilon))
        throw std::invalid_argument("epsilon must be above 0 and at most 64");
    const auto n =
        static_cast<std::uint64_t>(std::floor(epsilon * static_cast<double>(kEpsilonDen)));
    if (n == 0)
        throw std::invalid_argument("epsilon must be at least 2^-20");
    return n;
}

void check_sensitivity(double sensitivity) {
    if (!(sensitivity > 0) || !std::isfinite(sensitivity))
        throw std::invalid_argument("sensitivity must be a finite number above 0");
}

// At least this many grid steps to the sensitivity, else ceil(sensitivity / grid) overstates it
// by more than 1/64 (scales far above the sensitivity: epsilon well below 1/16).
constexpr int kMinSensitivityStepsLog2 = 6;

double grid_for(double scale, double sensitivity) {
    const double by_scale =
        std::ldexp(1.0, static_cast<int>(std::floor(std::log2(scale))) - kGridStepsLog2);
    const double by_sensitivity = std::ldexp(
        1.0, static_cast<int>(std::floor(std::log2(sensitivity))) - kMinSensitivityStepsLog2);
    return std::min(by_scale, by_sensitivity);
}

std::uint64_t steps(double sensitivity, double grid) {
    return static_cast<std::uint64_t>(std::ceil(sensitivity / grid));
}
} // namespace

std::string_view to_string(Mech m) {
    return m == Mech::laplace ? "laplace" : "gaussian";
}

double clamp(double v, Range r) {
    if (std::isnan(v) || v < r.lo)
        return r.lo;
    return v > r.hi ? r.hi : v;
}

double GridMechanism::scale() const {
    if (mech == Mech::laplace)
        return static_cast<double>(t) / static_cast<double>(s) * grid;
    return std::sqrt(static_cast<double>(sigma2_num) / static_cast<double>(sigma2_den)) * grid;
}

GridMechanism make_laplace(double sensitivity, double epsilon) {
    check_sensitivity(sensitivity);
    GridMechanism m;
    m.mech = Mech::laplace;
    m.epsilon = epsilon;
    m.sensitivity = sensitivity;
    const std::uint64_t e = epsilon_num(epsilon);
    m.grid = grid_for(laplace_scale(sensitivity, epsilon), sensitivity);
    m.grid_sensitivity = steps(sensitivity, m.grid);
    // Shifting the input by up to grid_sensitivity steps changes log P by at most
    // grid_sensitivity * s / t = e / 2^20 <= epsilon.
    m.t = m.grid_sensitivity * kEpsilonDen;
    m.s = e;
    const std::uint64_t g = std::gcd(m.s, m.t);
    m.s /= g;
    m.t /= g;
    return m;
}

GridMechanism make_gaussian(double sensitivity, double epsilon, double delta) {
    check_sensitivity(sensitivity);
    GridMechanism m;
    m.mech = Mech::gaussian;
    m.epsilon = epsilon;
    m.delta = delta;
    m.sensitivity = sensitivity;
    // The epsilon used is the floor of epsilon_num: less epsilon, more noise.
    const double eps = static_cast<double>(epsilon_num(epsilon)) / static_cast<double>(kEpsilonDen);
    m.grid = grid_for(gaussian_sigma_analytic(sensitivity, eps, delta), sensitivity);
    m.grid_sensitivity = steps(sensitivity, m.grid);
    // sigma in grid steps for the integer sensitivity, from the continuous analytic calibration,
    // then raised by 0.1% steps until the discrete Gaussian's own exact delta (CKS Theorem 7)
    // is within delta as well.
    const auto d = static_cast<double>(m.grid_sensitivity);
    const double sigma = gaussian_sigma_analytic(d, eps, delta);
    // The sampler's bound (discrete.hpp): sigma up to 2^16 grid steps, 64 to 128 steps to the
    // sensitivity, so sigma / sensitivity up to 512 (epsilon above about 0.01).
    constexpr std::uint64_t kMaxSigma2Num = std::uint64_t{1} << 40;
    const auto too_small = [] {
        return std::invalid_argument("epsilon too small for the discrete Gaussian: its sigma "
                                     "would be over 512 times the sensitivity (use Laplace)");
    };
    if (!(sigma * sigma * static_cast<double>(kSigma2Den) < static_cast<double>(kMaxSigma2Num)))
        throw too_small();
    m.sigma2_den = kSigma2Den;
    m.sigma2_num =
        static_cast<std::uint64_t>(std::ceil(sigma * sigma * static_cast<double>(kSigma2Den)));
    while (discrete_gaussian_delta(
               d, eps, static_cast<double>(m.sigma2_num) / static_cast<double>(kSigma2Den)) > delta)
        m.sigma2_num += m.sigma2_num / 1000 + 1;
    if (m.sigma2_num > kMaxSigma2Num)
        throw too_small();
    return m;
}

double release(const GridMechanism& m, double value, RandomSource& rng) {
    if (!std::isfinite(value))
        throw std::invalid_argument("release: the value is not finite");
    const auto x = static_cast<std::int64_t>(std::llround(value / m.grid));
    const std::int64_t z = m.mech == Mech::laplace
                               ? discrete_laplace(rng, m.s, m.t)
                               : discrete_gaussian(rng, m.sigma2_num, m.sigma2_den);
    // Both x + z and the product are exact: an integer times a power of two.
    return std::ldexp(static_cast<double>(x + z), std::ilogb(m.grid));
}

std::int64_t noisy_count(std::int64_t count, std::int64_t max_count, double epsilon,
                         RandomSource& rng) {
    if (max_count <= 0)
        throw std::invalid_argument("max_count must be above 0");
    const std::uint64_t e = epsilon_num(epsilon);
    const std::int64_t c = count < 0 ? 0 : (count > max_count ? max_count : count);
    // P(z) ~ exp(-|z| e / (max_count 2^20)): a shift of max_count costs e / 2^20 <= epsilon.
    std::uint64_t s = e, t = static_cast<std::uint64_t>(max_count) * kEpsilonDen;
    const std::uint64_t g = std::gcd(s, t);
    return c + discrete_laplace(rng, s / g, t / g);
}

bool randomized_response(bool truth, double epsilon, RandomSource& rng) {
    const std::uint64_t e = epsilon_num(epsilon);
    // Weights 1 for the truth and exp(-eps) for the lie: pick one of the two at random, accept
    // the lie with probability exp(-eps), else draw again. P(truth) = 1 / (1 + e^-eps).
    for (;;) {
        if (bernoulli(rng, 1, 2))
            return truth;
        if (bernoulli_exp(rng, e, kEpsilonDen))
            return !truth;
    }
}

double rr_truth_probability(double epsilon) {
    const double eps = static_cast<double>(epsilon_num(epsilon)) / static_cast<double>(kEpsilonDen);
    return 1.0 / (1.0 + std::exp(-eps));
}

double rr_estimate(double reported_fraction, double epsilon) {
    const double q = 1.0 - rr_truth_probability(epsilon);
    return (reported_fraction - q) / (1.0 - 2.0 * q);
}

} // namespace iots::privacy
