#include "iotshield/privacy/discrete.hpp"

#include <stdexcept>

namespace iots::privacy {

std::uint64_t uniform_below(RandomSource& rng, std::uint64_t n) {
    if (n == 0)
        throw std::invalid_argument("uniform_below: n = 0");
    // Reject the top 2^64 mod n values so that every residue is equally likely.
    const std::uint64_t limit = -n % n; // (2^64 - n) mod n = 2^64 mod n
    for (;;) {
        const std::uint64_t x = rng.next();
        if (x >= limit)
            return x % n;
    }
}

U128 uniform_below(RandomSource& rng, U128 n) {
    if (n == 0)
        throw std::invalid_argument("uniform_below: n = 0");
    if (n <= UINT64_MAX)
        return uniform_below(rng, static_cast<std::uint64_t>(n));
    const U128 limit = -n % n;
    for (;;) {
        const U128 x = (static_cast<U128>(rng.next()) << 64) | rng.next();
        if (x >= limit)
            return x % n;
    }
}

bool bernoulli(RandomSource& rng, U128 num, U128 den) {
    if (den == 0 || num > den)
        throw std::invalid_argument("bernoulli: not a probability");
    return uniform_below(rng, den) < num;
}

namespace {
// exp(-g) for g = num/den in [0, 1]: K = 1; while Bernoulli(g / K) K++; the parity of K.
bool bernoulli_exp_unit(RandomSource& rng, U128 num, U128 den) {
    U128 k = 1;
    while (bernoulli(rng, num, den * k))
        ++k;
    return (k & 1U) == 1U;
}
} // namespace

bool bernoulli_exp(RandomSource& rng, U128 num, U128 den) {
    if (den == 0)
        throw std::invalid_argument("bernoulli_exp: den = 0");
    // exp(-g) = exp(-1)^floor(g) * exp(-(g - floor(g))): stop at the first failure.
    for (U128 whole = num / den; whole > 0; --whole)
        if (!bernoulli_exp_unit(rng, 1, 1))
            return false;
    return bernoulli_exp_unit(rng, num % den, den);
}

std::int64_t discrete_laplace(RandomSource& rng, std::uint64_t s, std::uint64_t t) {
    if (s == 0 || t == 0)
        throw std::invalid_argument("discrete_laplace: s and t must be positive");
    for (;;) {
        const std::uint64_t u = uniform_below(rng, t);
        if (!bernoulli_exp(rng, u, t))
            continue;
        std::uint64_t v = 0;
        while (bernoulli_exp(rng, 1, 1))
            ++v;
        // X = U + t V is geometric with parameter 1 - exp(-1/t); Y = floor(X / s).
        const U128 x = static_cast<U128>(u) + static_cast<U128>(t) * v;
        const U128 y = x / s;
        if (y > static_cast<U128>(INT64_MAX))
            continue; // beyond any double's reach of the scale; probability ~ 0
        const bool negative = bernoulli(rng, 1, 2);
        if (negative && y == 0)
            continue;
        const auto yy = static_cast<std::int64_t>(y);
        return negative ? -yy : yy;
    }
}

namespace {
std::uint64_t isqrt(std::uint64_t x) {
    std::uint64_t r = 0;
    for (std::uint64_t bit = std::uint64_t{1} << 62; bit != 0; bit >>= 2) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
    }
    return r;
}
} // namespace

std::int64_t discrete_gaussian(RandomSource& rng, std::uint64_t sigma2_num,
                               std::uint64_t sigma2_den) {
    if (sigma2_num == 0 || sigma2_den == 0)
        throw std::invalid_argument("discrete_gaussian: sigma^2 must be positive");
    if (sigma2_num > (std::uint64_t{1} << 40) || sigma2_den > (std::uint64_t{1} << 16))
        throw std::invalid_argument("discrete_gaussian: sigma^2 = num/den needs num <= 2^40, "
                                    "den <= 2^16");
    // floor(sqrt(n/d)) = floor(sqrt(floor(n/d))).
    const std::uint64_t t = isqrt(sigma2_num / sigma2_den) + 1;
    const U128 n = sigma2_num, d = sigma2_den;
    for (;;) {
        const std::int64_t y = discrete_laplace(rng, 1, t);
        const std::uint64_t ay =
            y < 0 ? 0 - static_cast<std::uint64_t>(y) : static_cast<std::uint64_t>(y);
        if (ay > (std::uint64_t{1} << 40))
            continue; // exp(-huge): never accepted; keeps the products below within 128 bits
        // (|y| - sigma2/t)^2 / (2 sigma2), with sigma2 = n/d:
        //   = (|y| d t - n)^2 / (d^2 t^2) * d / (2 n) = (|y| d t - n)^2 / (2 n d t^2).
        const U128 a = static_cast<U128>(ay) * d * t;
        const U128 diff = a >= n ? a - n : n - a;
        if (diff > (U128{1} << 63))
            continue; // as above: the square would not fit, and exp(-that) is 0
        const U128 num = diff * diff;
        const U128 den = 2 * n * d * t * t;
        if (bernoulli_exp(rng, num, den))
            return y;
    }
}

} // namespace iots::privacy
