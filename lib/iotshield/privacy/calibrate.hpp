#pragma once
// How much noise a release needs: the arithmetic of the mechanisms, in plain doubles (it sets
// parameters; no sample is drawn in floating point).
namespace iots::privacy {

// Laplace: b = sensitivity / epsilon gives epsilon-DP (Dwork, McSherry, Nissim, Smith 2006).
[[nodiscard]] double laplace_scale(double sensitivity, double epsilon);

// The classic Gaussian bound (Dwork and Roth 2014, Theorem A.1):
//   sigma = sensitivity * sqrt(2 ln(1.25 / delta)) / epsilon,
// proven only for epsilon < 1 (throws std::invalid_argument otherwise). Kept for comparison and
// for DESIGN §6's formula; the mechanisms use the analytic calibration below.
[[nodiscard]] double gaussian_sigma_classic(double sensitivity, double epsilon, double delta);

// delta of the Gaussian mechanism with this sigma, exactly (Balle and Wang 2018, Theorem 8):
//   delta(sigma) = Phi(D / (2 sigma) - eps sigma / D) - e^eps Phi(-D / (2 sigma) - eps sigma / D)
[[nodiscard]] double gaussian_delta(double sensitivity, double epsilon, double sigma);

// The analytic Gaussian mechanism (Balle and Wang 2018, Algorithm 1 by bisection instead of their
// closed search): the smallest sigma with gaussian_delta(sigma) <= delta, to a relative 1e-9,
// rounded up. Valid for every epsilon > 0 and smaller than the classic bound.
[[nodiscard]] double gaussian_sigma_analytic(double sensitivity, double epsilon, double delta);

// delta of the discrete Gaussian of variance parameter sigma2 on the integers, for an integer
// sensitivity, exactly (Canonne, Kamath, Steinke 2020, Theorem 7):
//   delta = P[Y > eps sigma2 / D - D / 2] - e^eps P[Y > eps sigma2 / D + D / 2],  Y ~ N_Z(0,
//   sigma2)
// with the tails summed over the pmf (|y| up to 40 sigma; the rest is below 1e-300).
[[nodiscard]] double discrete_gaussian_delta(double sensitivity, double epsilon, double sigma2);

} // namespace iots::privacy
