#pragma once
// The arithmetic of a privacy budget under basic composition (Dwork, Kenthapadi, McSherry,
// Mironov, Naor 2006): releases of (eps_i, delta_i) about the same unit are (sum eps_i,
// sum delta_i)-DP together. The ledger (store/ledger.*) keeps the sums per destination and day.
#include <string>

namespace iots::privacy {

struct Cost {
    double epsilon = 0;
    double delta = 0;
    Cost& operator+=(const Cost& o) {
        epsilon += o.epsilon;
        delta += o.delta;
        return *this;
    }
};

// What one destination may receive about one day of the home.
struct Budget {
    double epsilon = 0;
    double delta = 0;
};

// spent + more within the budget. A relative 1e-9 of slack absorbs the rounding of the sums
// (ten releases of 0.1 add to 0.9999999999999999, and to 1.0000000000000002 in another order).
[[nodiscard]] bool fits(const Cost& spent, const Cost& more, const Budget& budget);

// What is left of the budget after spent (never below 0).
[[nodiscard]] Cost left(const Cost& spent, const Budget& budget);

// "epsilon 0.6, delta 1e-06" (delta left out when 0), for messages.
[[nodiscard]] std::string describe(const Cost& c);

} // namespace iots::privacy
