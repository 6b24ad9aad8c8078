#define BOOST_TEST_MODULE privacy_samplers
// The exact samplers against their exact distributions, at large N with fixed seeds. Each
// chi-square test rejects at significance 0.001: the statistic must stay under the 0.999
// quantile of chi-square with df degrees of freedom, from Wilson and Hilferty's approximation
//   q = df (1 - 2/(9 df) + 3.0902 sqrt(2/(9 df)))^3     (3.0902 = the normal's 0.999 quantile).
// The seeds are fixed, so a pass is reproducible; a broken sampler fails by orders of magnitude.
#include "iotshield/privacy/discrete.hpp"
#include "iotshield/privacy/random.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

using namespace iots::privacy;

namespace {
double chi2_quantile_999(double df) {
    const double a = 2.0 / (9.0 * df);
    return df * std::pow(1.0 - a + 3.0902 * std::sqrt(a), 3.0);
}

// Chi-square of counts of integer samples against pmf(y) over [-range, range], with each tail
// beyond it as one bin. Returns the statistic; sets df.
template <typename Pmf>
double chi2(const std::map<std::int64_t, long>& counts, long n, std::int64_t range, Pmf pmf,
            double& df) {
    double stat = 0;
    double inside = 0;
    long counted = 0;
    int bins = 0;
    for (std::int64_t y = -range; y <= range; ++y) {
        const double p = pmf(y);
        inside += p;
        const auto it = counts.find(y);
        const long o = it == counts.end() ? 0 : it->second;
        counted += o;
        const double e = p * static_cast<double>(n);
        stat += (static_cast<double>(o) - e) * (static_cast<double>(o) - e) / e;
        ++bins;
    }
    const double e_tail = (1.0 - inside) * static_cast<double>(n);
    const auto o_tail = static_cast<double>(n - counted);
    if (e_tail > 5) {
        stat += (o_tail - e_tail) * (o_tail - e_tail) / e_tail;
        ++bins;
    }
    df = bins - 1;
    return stat;
}
} // namespace

BOOST_AUTO_TEST_CASE(uniform_below_is_uniform) {
    SeededRandom rng(1);
    std::map<std::int64_t, long> counts;
    const long n = 300000;
    for (long i = 0; i < n; ++i)
        ++counts[static_cast<std::int64_t>(uniform_below(rng, std::uint64_t{7})) - 3];
    double df = 0;
    const double stat = chi2(
        counts, n, 3, [](std::int64_t) { return 1.0 / 7.0; }, df);
    BOOST_TEST(df == 6.0);
    BOOST_TEST(stat < chi2_quantile_999(df)); // q(6) = 22.46
}

BOOST_AUTO_TEST_CASE(bernoulli_exp_rates) {
    // exp(-0.3) = 0.7408, exp(-1) = 0.3679, exp(-2.5) = 0.0821. With N = 400000 the standard
    // error is at most sqrt(0.25 / 400000) = 0.00079; 3.29 of them is the 0.001 two-sided test.
    SeededRandom rng(2);
    const long n = 400000;
    for (auto [num, den] : {std::pair{3, 10}, std::pair{1, 1}, std::pair{5, 2}}) {
        long hits = 0;
        for (long i = 0; i < n; ++i)
            hits += bernoulli_exp(rng, static_cast<U128>(num), static_cast<U128>(den)) ? 1 : 0;
        const double p = std::exp(-static_cast<double>(num) / den);
        const double se = std::sqrt(p * (1 - p) / n);
        BOOST_TEST(std::fabs(static_cast<double>(hits) / n - p) < 3.29 * se);
    }
}

BOOST_AUTO_TEST_CASE(discrete_laplace_matches_its_pmf) {
    // s/t = 2/7: P(y) = (1 - e^(-2/7)) / (1 + e^(-2/7)) e^(-2|y|/7)
    //   P(0) = (1 - 0.7515) / (1 + 0.7515) = 0.1419.
    for (auto [s, t] : {std::pair<std::uint64_t, std::uint64_t>{2, 7}, {5, 1}, {3, 1000}}) {
        SeededRandom rng(3 + s);
        const long n = 300000;
        std::map<std::int64_t, long> counts;
        for (long i = 0; i < n; ++i)
            ++counts[discrete_laplace(rng, s, t)];
        const double r = std::exp(-static_cast<double>(s) / static_cast<double>(t));
        const auto pmf = [r](std::int64_t y) {
            return (1 - r) / (1 + r) * std::pow(r, static_cast<double>(std::llabs(y)));
        };
        // Bins with at least ~5 expected counts: |y| up to where n P(y) falls to 5.
        auto range =
            static_cast<std::int64_t>(std::log(5.0 / (n * (1 - r) / (1 + r))) / std::log(r));
        range = std::min<std::int64_t>(range, 4000);
        double df = 0;
        const double stat = chi2(counts, n, range, pmf, df);
        BOOST_TEST_MESSAGE("s/t " << s << "/" << t << ": chi2 " << stat << " df " << df);
        BOOST_TEST(stat < chi2_quantile_999(df));
    }
}

BOOST_AUTO_TEST_CASE(discrete_gaussian_matches_its_pmf) {
    // P(y) = exp(-y^2 / (2 sigma2)) / sum_z exp(-z^2 / (2 sigma2)); sigma2 = 1/2, 10, 1000/3.
    for (auto [num, den] : {std::pair<std::uint64_t, std::uint64_t>{1, 2}, {10, 1}, {1000, 3}}) {
        SeededRandom rng(11 + num);
        const long n = 300000;
        std::map<std::int64_t, long> counts;
        for (long i = 0; i < n; ++i)
            ++counts[discrete_gaussian(rng, num, den)];
        const double sigma2 = static_cast<double>(num) / static_cast<double>(den);
        double norm = 0;
        for (int z = -2000; z <= 2000; ++z)
            norm += std::exp(-z * z / (2 * sigma2));
        const auto pmf = [&](std::int64_t y) {
            return std::exp(-static_cast<double>(y * y) / (2 * sigma2)) / norm;
        };
        std::int64_t range = 0;
        while (pmf(range + 1) * n >= 5)
            ++range;
        double df = 0;
        const double stat = chi2(counts, n, range, pmf, df);
        BOOST_TEST_MESSAGE("sigma2 " << sigma2 << ": chi2 " << stat << " df " << df);
        BOOST_TEST(stat < chi2_quantile_999(df));
    }
}

BOOST_AUTO_TEST_CASE(seeded_random_is_deterministic_and_system_random_varies) {
    SeededRandom a(42), b(42), c(43);
    const std::uint64_t x = a.next();
    BOOST_TEST(x == b.next());
    BOOST_TEST(x != c.next());
    SystemRandom s;
    std::vector<std::uint64_t> v;
    for (int i = 0; i < 100; ++i) // more than one 32-word refill
        v.push_back(s.next());
    BOOST_TEST(v[0] != v[1]);
    BOOST_TEST(v[31] != v[32]);
}
