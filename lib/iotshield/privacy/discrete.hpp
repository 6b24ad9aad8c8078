#pragma once
// Exact samplers on the integers, after Canonne, Kamath and Steinke, "The Discrete Gaussian for
// Differential Privacy" (NeurIPS 2020), Algorithms 1-3. Integer and rational arithmetic only: no
// floating point touches a sample, so Mironov's attack (2012) on the low-order bits of a
// floating-point Laplace has nothing to read. Parameters are rationals num/den.
#include "iotshield/privacy/random.hpp"

#include <cstdint>

namespace iots::privacy {

__extension__ typedef unsigned __int128 U128;

// Uniform in [0, n), n > 0 (rejection: no modulo bias).
[[nodiscard]] std::uint64_t uniform_below(RandomSource& rng, std::uint64_t n);
[[nodiscard]] U128 uniform_below(RandomSource& rng, U128 n);

// true with probability num/den (num <= den, den > 0).
[[nodiscard]] bool bernoulli(RandomSource& rng, U128 num, U128 den);

// true with probability exp(-num/den) (den > 0): CKS Algorithm 1.
[[nodiscard]] bool bernoulli_exp(RandomSource& rng, U128 num, U128 den);

// P(Y = y) proportional to exp(-|y| * s / t) on the integers (s, t > 0): CKS Algorithm 2.
// Its scale is t / s; its variance 2 e^(-s/t) / (1 - e^(-s/t))^2.
[[nodiscard]] std::int64_t discrete_laplace(RandomSource& rng, std::uint64_t s, std::uint64_t t);

// P(Y = y) proportional to exp(-y^2 / (2 sigma2)) on the integers, sigma2 = num / den > 0:
// CKS Algorithm 3 (a discrete Laplace of scale t = floor(sigma) + 1, accepted with
// probability exp(-(|y| - sigma2/t)^2 / (2 sigma2))). num <= 2^40 and den <= 2^16 keep every
// product within 128 bits.
[[nodiscard]] std::int64_t discrete_gaussian(RandomSource& rng, std::uint64_t sigma2_num,
                                             std::uint64_t sigma2_den);

} // namespace iots::privacy
