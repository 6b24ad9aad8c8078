#include "iotshield/privacy/budget.hpp"

#include <algorithm>
#include <cstdio>

namespace iots::privacy {

namespace {
bool within(double used, double limit) {
    return used <= limit * (1.0 + 1e-9) + 1e-15;
}
std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}
} // namespace

bool fits(const Cost& spent, const Cost& more, const Budget& budget) {
    return within(spent.epsilon + more.epsilon, budget.epsilon) &&
           within(spent.delta + more.delta, budget.delta);
}

Cost left(const Cost& spent, const Budget& budget) {
    return {std::max(0.0, budget.epsilon - spent.epsilon),
            std::max(0.0, budget.delta - spent.delta)};
}

std::string describe(const Cost& c) {
    std::string s = "epsilon " + number(c.epsilon);
    if (c.delta > 0)
        s += ", delta " + number(c.delta);
    return s;
}

} // namespace iots::privacy
