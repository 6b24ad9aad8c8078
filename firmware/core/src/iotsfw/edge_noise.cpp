#include "iotsfw/edge_noise.hpp"

#include <cmath>
#include <cstdio>

namespace iots::fw {

namespace {

constexpr std::uint64_t kEpsilonDen = std::uint64_t{1} << 20;
constexpr double kHeatC = 57.0; // the hub's heat danger level (record/safety.hpp)
constexpr int kGridStepsLog2 = 10;
constexpr int kMinSensitivityStepsLog2 = 6;

std::uint64_t gcd(std::uint64_t a, std::uint64_t b) {
    while (b != 0) {
        const std::uint64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

std::uint64_t next64(Random& rng) {
    const std::uint64_t hi = rng.next32();
    return (hi << 32) | rng.next32();
}

// Uniform in [0, n), n > 0, by rejection (no modulo bias).
std::uint64_t uniform_below(Random& rng, std::uint64_t n) {
    const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
    for (;;) {
        const std::uint64_t x = next64(rng);
        if (x < limit)
            return x % n;
    }
}

bool bernoulli(Random& rng, std::uint64_t num, std::uint64_t den) {
    return uniform_below(rng, den) < num;
}

// exp(-num / den) for num <= den: CKS Algorithm 1, the series' first failing term's parity. num
// and den stay under 2^40 here, so den * k does not overflow.
bool bernoulli_exp_le1(Random& rng, std::uint64_t num, std::uint64_t den) {
    std::uint64_t k = 1;
    while (bernoulli(rng, num, den * k))
        ++k;
    return (k % 2) == 1;
}

bool bernoulli_exp(Random& rng, std::uint64_t num, std::uint64_t den) {
    for (std::uint64_t i = 0; i < num / den; ++i)
        if (!bernoulli_exp_le1(rng, 1, 1))
            return false;
    return bernoulli_exp_le1(rng, num % den, den);
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

double clamp(double v, EdgeRange r) {
    if (std::isnan(v) || v < r.lo)
        return r.lo;
    return v > r.hi ? r.hi : v;
}

std::string note(const char* mech, double eps, double sensitivity, EdgeRange r, double day) {
    return std::string("\"privacy\":{\"mech\":\"") + mech + "\",\"epsilon\":" + number(eps) +
           ",\"sensitivity\":" + number(sensitivity) + ",\"clamp\":[" + number(r.lo) + "," +
           number(r.hi) + "],\"day_epsilon\":" + number(day) + "}";
}

} // namespace

SeededRandom::SeededRandom(std::uint64_t seed) {
    for (auto& s : m_s) { // splitmix64
        std::uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        s = static_cast<std::uint32_t>(z ^ (z >> 31));
    }
}

std::uint32_t SeededRandom::next32() {
    const auto rotl = [](std::uint32_t x, int k) { return (x << k) | (x >> (32 - k)); };
    const std::uint32_t result = rotl(m_s[1] * 5, 7) * 9;
    const std::uint32_t t = m_s[1] << 9;
    m_s[2] ^= m_s[0];
    m_s[3] ^= m_s[1];
    m_s[1] ^= m_s[2];
    m_s[0] ^= m_s[3];
    m_s[2] ^= t;
    m_s[3] = rotl(m_s[3], 11);
    return result;
}

std::int64_t edge_discrete_laplace(Random& rng, std::uint64_t s, std::uint64_t t) {
    // CKS Algorithm 2.
    for (;;) {
        const std::uint64_t u = uniform_below(rng, t);
        if (!bernoulli_exp(rng, u, t))
            continue;
        std::uint64_t v = 0;
        while (bernoulli_exp_le1(rng, 1, 1))
            ++v;
        const std::uint64_t x = u + t * v;
        const auto y = static_cast<std::int64_t>(x / s);
        const bool negative = bernoulli(rng, 1, 2);
        if (negative && y == 0)
            continue;
        return negative ? -y : y;
    }
}

bool edge_randomized_response(bool truth, std::uint64_t eps_num, Random& rng) {
    // Weights 1 for the truth, exp(-eps) for the lie: P(truth) = 1 / (1 + e^-eps).
    for (;;) {
        if (bernoulli(rng, 1, 2))
            return truth;
        if (bernoulli_exp(rng, eps_num, kEpsilonDen))
            return !truth;
    }
}

std::uint64_t edge_readings_per_day(std::uint32_t interval_ms) {
    constexpr std::uint64_t kDay = 86400000;
    return interval_ms == 0 ? 0 : (kDay + interval_ms - 1) / interval_ms + 1;
}

std::string EdgeNoise::check(const EdgeNoiseConfig& c) {
    if (!(c.day_epsilon > 0) || !std::isfinite(c.day_epsilon))
        return "edge noise: day_epsilon must be above 0";
    if (c.readings_per_day == 0)
        return "edge noise: readings_per_day must be above 0";
    const double eps = c.day_epsilon / static_cast<double>(c.readings_per_day);
    if (eps < std::ldexp(1.0, -20))
        return "edge noise: the day's epsilon split over its readings is under 2^-20 a reading";
    if (eps > 64)
        return "edge noise: over 64 a reading";
    for (const EdgeRange& r : {c.temperature, c.humidity, c.light})
        if (!(r.lo < r.hi))
            return "edge noise: a clamp's lo must be below its hi";
    if (c.temperature.lo < -40 || c.temperature.hi >= kHeatC || c.humidity.lo < 0 ||
        c.humidity.hi > 100 || c.light.lo < 0 || c.light.hi > 100000)
        return "edge noise: a clamp outside its kind's range (temperature below 57 C)";
    return {};
}

EdgeNoise::EdgeNoise(const EdgeNoiseConfig& c) {
    if (!check(c).empty())
        return;
    m_eps = c.day_epsilon / static_cast<double>(c.readings_per_day);
    m_eps_num = static_cast<std::uint64_t>(std::floor(m_eps * static_cast<double>(kEpsilonDen)));
    const auto setup = [&](Numeric& n, EdgeRange r) {
        n.range = r;
        const double sensitivity = r.hi - r.lo;
        const double scale = sensitivity / m_eps;
        // The grid of the hub's mechanism: 2^10 steps to the noise's scale, at least 2^6 to the
        // sensitivity.
        n.grid = std::fmin(
            std::ldexp(1.0, static_cast<int>(std::floor(std::log2(scale))) - kGridStepsLog2),
            std::ldexp(1.0, static_cast<int>(std::floor(std::log2(sensitivity))) -
                                kMinSensitivityStepsLog2));
        const auto steps = static_cast<std::uint64_t>(std::ceil(sensitivity / n.grid));
        // A shift of `steps` changes log P by steps * s / t = eps_num / 2^20 <= epsilon.
        n.s = m_eps_num;
        n.t = steps * kEpsilonDen;
        const std::uint64_t g = gcd(n.s, n.t);
        n.s /= g;
        n.t /= g;
        n.note = fw::note("laplace", m_eps, sensitivity, r, c.day_epsilon);
    };
    setup(m_temperature, c.temperature);
    setup(m_humidity, c.humidity);
    setup(m_light, c.light);
    m_motion_note = fw::note("randomized_response", m_eps, 1, EdgeRange{0, 1}, c.day_epsilon);
}

const EdgeNoise::Numeric* EdgeNoise::numeric(Kind k) const {
    switch (k) {
    case Kind::temperature:
        return &m_temperature;
    case Kind::humidity:
        return &m_humidity;
    case Kind::light:
        return &m_light;
    default:
        return nullptr;
    }
}

bool EdgeNoise::apply(Kind k, double& value, Random& rng) const {
    if (m_eps_num == 0)
        return false;
    if (k == Kind::motion) {
        value = edge_randomized_response(value >= 0.5, m_eps_num, rng) ? 1 : 0;
        return true;
    }
    const Numeric* n = numeric(k);
    if (n == nullptr || (k == Kind::temperature && value >= kHeatC))
        return false; // gas, flame, heat: safety acts on the true value
    const auto x = static_cast<std::int64_t>(std::llround(clamp(value, n->range) / n->grid));
    const std::int64_t z = edge_discrete_laplace(rng, n->s, n->t);
    value = clamp(std::ldexp(static_cast<double>(x + z), std::ilogb(n->grid)), n->range);
    return true;
}

const std::string& EdgeNoise::note(Kind k) const {
    const Numeric* n = numeric(k);
    return n != nullptr ? n->note : m_motion_note;
}

double EdgeNoise::scale(Kind k) const {
    const Numeric* n = numeric(k);
    return n == nullptr ? 0 : static_cast<double>(n->t) / static_cast<double>(n->s) * n->grid;
}

} // namespace iots::fw
