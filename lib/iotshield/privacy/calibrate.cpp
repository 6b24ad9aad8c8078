#include "iotshield/privacy/calibrate.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

namespace iots::privacy {

namespace {
void check(double sensitivity, double epsilon) {
    if (!(sensitivity > 0) || !std::isfinite(sensitivity))
        throw std::invalid_argument("sensitivity must be a finite number above 0");
    if (!(epsilon > 0) || !std::isfinite(epsilon))
        throw std::invalid_argument("epsilon must be a finite number above 0");
}
void check_delta(double delta) {
    if (!(delta > 0) || !(delta < 1))
        throw std::invalid_argument("delta must be between 0 and 1");
}
double phi(double x) {
    return 0.5 * std::erfc(-x / std::sqrt(2.0));
}
} // namespace

double laplace_scale(double sensitivity, double epsilon) {
    check(sensitivity, epsilon);
    return sensitivity / epsilon;
}

double gaussian_sigma_classic(double sensitivity, double epsilon, double delta) {
    check(sensitivity, epsilon);
    check_delta(delta);
    if (!(epsilon < 1))
        throw std::invalid_argument("the classic Gaussian bound needs epsilon < 1");
    return sensitivity * std::sqrt(2.0 * std::log(1.25 / delta)) / epsilon;
}

double gaussian_delta(double sensitivity, double epsilon, double sigma) {
    check(sensitivity, epsilon);
    const double a = sensitivity / (2.0 * sigma);
    const double b = epsilon * sigma / sensitivity;
    return phi(a - b) - std::exp(epsilon) * phi(-a - b);
}

double gaussian_sigma_analytic(double sensitivity, double epsilon, double delta) {
    check(sensitivity, epsilon);
    check_delta(delta);
    // delta(sigma) falls as sigma grows: bracket, then bisect.
    double hi = sensitivity;
    while (gaussian_delta(sensitivity, epsilon, hi) > delta)
        hi *= 2.0;
    double lo = hi / 2.0;
    while (lo > 1e-12 * sensitivity && gaussian_delta(sensitivity, epsilon, lo) <= delta)
        lo /= 2.0;
    while ((hi - lo) > 1e-9 * hi) {
        const double mid = 0.5 * (lo + hi);
        if (gaussian_delta(sensitivity, epsilon, mid) <= delta)
            hi = mid;
        else
            lo = mid;
    }
    return hi; // the side that satisfies delta
}

double discrete_gaussian_delta(double sensitivity, double epsilon, double sigma2) {
    check(sensitivity, epsilon);
    if (!(sigma2 > 0))
        throw std::invalid_argument("sigma^2 must be above 0");
    const double sigma = std::sqrt(sigma2);
    const auto half = static_cast<long long>(std::ceil(40.0 * sigma + sensitivity)) + 1;
    std::vector<double> pmf(static_cast<std::size_t>(2 * half + 1));
    double total = 0;
    for (long long y = -half; y <= half; ++y) {
        const double p = std::exp(-static_cast<double>(y * y) / (2.0 * sigma2));
        pmf[static_cast<std::size_t>(y + half)] = p;
        total += p;
    }
    const auto tail_above = [&](double x) { // P[Y > x]
        double s = 0;
        for (long long y = half; y > -half && static_cast<double>(y) > x; --y)
            s += pmf[static_cast<std::size_t>(y + half)];
        return s / total;
    };
    const double c = epsilon * sigma2 / sensitivity;
    return tail_above(c - sensitivity / 2.0) -
           std::exp(epsilon) * tail_above(c + sensitivity / 2.0);
}

} // namespace iots::privacy
