#pragma once
// The mechanisms a release uses, on values clamped to a declared range first so that the declared
// sensitivity holds. Every sample comes from discrete.hpp's exact integer samplers, on a grid of
// 2^k: an output is (round(x / 2^k) + Z) * 2^k, a multiple of the grid whatever x was, so its
// low-order bits carry nothing of x (the defence against Mironov 2012 that CKS 2020 describe).
#include "iotshield/privacy/random.hpp"

#include <cstdint>
#include <string_view>

namespace iots::privacy {

enum class Mech { laplace, gaussian };
[[nodiscard]] std::string_view to_string(Mech m);

struct Range {
    double lo = 0;
    double hi = 0;
};
// v clamped to [lo, hi]; a NaN becomes lo (never reaches a release unclamped).
[[nodiscard]] double clamp(double v, Range r);

// epsilon is used as floor(epsilon * 2^20) / 2^20 (at most the declared epsilon, so the noise is
// never less than asked); accepted from 2^-20 to 64.
inline constexpr double kMaxEpsilon = 64.0;

struct GridMechanism {
    Mech mech = Mech::laplace;
    double epsilon = 0;                 // as declared
    double delta = 0;                   // 0 for Laplace
    double sensitivity = 0;             // in the value's unit, as declared
    double grid = 0;                    // 2^k, about a thousandth of the noise's scale
    std::uint64_t grid_sensitivity = 0; // ceil(sensitivity / grid): two inputs that differ by at
                                        // most sensitivity round to grid points this close
    // Laplace: P(z) ~ exp(-|z| s / t) in grid steps, t / s = grid_sensitivity / epsilon.
    std::uint64_t s = 0, t = 0;
    // Gaussian: sigma^2 = sigma2_num / sigma2_den in grid steps.
    std::uint64_t sigma2_num = 0, sigma2_den = 0;

    // The noise's scale in the value's unit: Laplace b, Gaussian sigma.
    [[nodiscard]] double scale() const;
};

// Throws std::invalid_argument naming the parameter that is out of range.
[[nodiscard]] GridMechanism make_laplace(double sensitivity, double epsilon);
[[nodiscard]] GridMechanism make_gaussian(double sensitivity, double epsilon, double delta);

// value (already clamped by the caller) plus noise, on the mechanism's grid.
[[nodiscard]] double release(const GridMechanism& m, double value, RandomSource& rng);

// A count clamped to [0, max_count], plus discrete Laplace noise of scale max_count / epsilon
// (the count's sensitivity is max_count: the privacy unit can move it from 0 to max_count).
// Unbiased, so it can be negative.
[[nodiscard]] std::int64_t noisy_count(std::int64_t count, std::int64_t max_count, double epsilon,
                                       RandomSource& rng);

// Randomized response (Warner 1965): the true bit with probability e^eps / (1 + e^eps), else its
// opposite; epsilon-DP for one bit. Sampled exactly (bernoulli_exp), no floating point.
[[nodiscard]] bool randomized_response(bool truth, double epsilon, RandomSource& rng);
// P(report = truth) = e^eps / (1 + e^eps).
[[nodiscard]] double rr_truth_probability(double epsilon);
// The unbiased estimate of the true fraction of ones from the fraction reported:
//   (f - q) / (1 - 2 q), q = 1 / (1 + e^eps).
[[nodiscard]] double rr_estimate(double reported_fraction, double epsilon);

} // namespace iots::privacy
