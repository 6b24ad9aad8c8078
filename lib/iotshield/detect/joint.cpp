#include "iotshield/detect/joint.hpp"

#include "iotshield/detect/params.hpp"
#include "iotshield/record/sensor.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace iots::detect {

namespace {
double log_gamma(double x) noexcept {
    int sign = 0;
    return ::lgamma_r(x, &sign); // lgamma writes the global signgam
}

// The continued fraction of the regularised incomplete beta function (Numerical Recipes 6.4,
// modified Lentz), converging for x < (a + 1) / (a + b + 2).
double beta_fraction(double a, double b, double x) noexcept {
    constexpr double kTiny = 1e-300;
    constexpr double kEps = 1e-12;
    const double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    d = 1 / (std::fabs(d) < kTiny ? kTiny : d);
    double h = d;
    for (int m = 1; m <= 300; ++m) {
        const double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        d = 1 / (std::fabs(d) < kTiny ? kTiny : d);
        c = 1 + aa / c;
        c = std::fabs(c) < kTiny ? kTiny : c;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        d = 1 / (std::fabs(d) < kTiny ? kTiny : d);
        c = 1 + aa / c;
        c = std::fabs(c) < kTiny ? kTiny : c;
        const double del = d * c;
        h *= del;
        if (std::fabs(del - 1) < kEps)
            break;
    }
    return h;
}

// ln I_x(a, b), the regularised incomplete beta function, for 0 < x < 1.
double log_beta_inc(double a, double b, double x) noexcept {
    const double log_front =
        a * std::log(x) + b * std::log1p(-x) + log_gamma(a + b) - log_gamma(a) - log_gamma(b);
    if (x < (a + 1) / (a + b + 2))
        return log_front + std::log(beta_fraction(a, b, x) / a);
    const double rest = std::exp(log_front) * beta_fraction(b, a, 1 - x) / b; // I_{1-x}(b, a)
    return std::log1p(-std::min(rest, 1.0));
}
} // namespace

double log_f_tail(double f, double d1, double d2) noexcept {
    if (!(f > 0))
        return 0;
    const double x = d2 / (d2 + d1 * f); // P(F > f) = I_x(d2 / 2, d1 / 2)
    if (!(x > 0))
        return -HUGE_VAL;
    if (!(x < 1))
        return 0;
    return std::min(0.0, log_beta_inc(d2 / 2, d1 / 2, x));
}

int JointState::channel(std::string_view sensor) noexcept {
    for (std::uint32_t i = 0; i < m_channels; ++i)
        if (m_name_size[i] == sensor.size() &&
            std::memcmp(m_names[i].data(), sensor.data(), sensor.size()) == 0)
            return static_cast<int>(i);
    if (m_channels == kJointChannels || sensor.empty() || sensor.size() > kJointNameMax)
        return -1;
    const auto info = record::sensor_info(sensor);
    if (info && info->binary)
        return -1;
    const std::uint32_t i = m_channels++;
    std::memcpy(m_names[i].data(), sensor.data(), sensor.size());
    m_name_size[i] = static_cast<std::uint8_t>(sensor.size());
    // The statistics so far do not cover the new channel: learning starts again.
    m_weight = 0;
    m_mean = {};
    m_cov = {};
    m_lag = {};
    return static_cast<int>(i);
}

JointStep JointState::observe(core::Millis ts, std::string_view sensor, double value,
                              const JointLevels& levels) noexcept {
    JointStep out;
    if (!std::isfinite(value))
        return out;
    const int ch = channel(sensor);
    if (ch < 0)
        return out;
    if (m_row_open && ts != m_row_ts) {
        if (ts < m_row_ts)
            return out;
        const auto step = static_cast<double>(ts - m_row_ts);
        m_interval = m_interval > 0 ? 0.99 * m_interval + 0.01 * step : step;
        out = close_row(levels); // the next ts starts: the previous row is complete
    }
    if (!m_row_open)
        m_row_flagged = false;
    m_row_open = true;
    m_row_ts = ts;
    m_row[static_cast<std::size_t>(ch)] = value;
    m_pending |= 1U << static_cast<unsigned>(ch);
    if (m_pending == (1U << m_channels) - 1)
        out = close_row(levels);
    return out;
}

JointStep JointState::close_row(const JointLevels& levels) noexcept {
    m_row_open = false;
    m_pending = 0;
    JointStep out;
    out.row_flagged = m_row_flagged;
    if (m_channels < 2)
        return out;

    // The channels that vary; a constant one carries no relation (and no inverse).
    std::array<std::size_t, kJointChannels> act{};
    std::size_t k = 0;
    for (std::size_t i = 0; i < m_channels; ++i)
        if (m_cov[i][i] > 1e-24 + 1e-12 * m_mean[i] * m_mean[i])
            act[k++] = i;
    const double n = effective_rows(k, act);
    if (k >= 2 && n >= levels.warmup_rows && n > static_cast<double>(k) + 1) {
        // Cholesky factor of the ridged covariance, and the whitened deviation.
        std::array<std::array<double, kJointChannels>, kJointChannels> l{};
        std::array<double, kJointChannels> y{};
        bool ok = true;
        double d2 = 0;
        for (std::size_t i = 0; i < k && ok; ++i) {
            const std::size_t ci = act[i];
            for (std::size_t j = 0; j <= i; ++j) {
                const std::size_t cj = act[j];
                double s = m_cov[ci][cj] + (i == j ? levels.ridge * m_cov[ci][ci] : 0.0);
                for (std::size_t t = 0; t < j; ++t)
                    s -= l[i][t] * l[j][t];
                if (i == j) {
                    if (!(s > 0)) {
                        ok = false;
                        break;
                    }
                    l[i][i] = std::sqrt(s);
                } else {
                    l[i][j] = s / l[j][j];
                }
            }
            if (!ok)
                break;
            const double sd = std::sqrt(m_cov[ci][ci]);
            const double lim = levels.clip * sd;
            double e = std::clamp(m_row[ci] - m_mean[ci], -lim, lim);
            for (std::size_t t = 0; t < i; ++t)
                e -= l[i][t] * y[t];
            y[i] = e / l[i][i];
            d2 += y[i] * y[i];
        }
        if (ok) {
            // Hotelling's T2 of a new observation against n rows: the biased covariance's d2
            // times (n - k) / ((n + 1) k) is F(k, n - k).
            const auto kd = static_cast<double>(k);
            const double f = d2 * (n - kd) / ((n + 1) * kd);
            const double level = std::log(levels.alpha) - m_raise * std::log(10.0);
            out.scored = true;
            out.log_p = log_f_tail(f, kd, n - kd);
            const double keep = 1 - 1 / std::max(1.0, levels.evidence_rows);
            m_evidence = keep * m_evidence + (1 - keep) * std::min(-out.log_p, -2 * level);
            // An event starts on a row under the level, or on a row under the hold level while
            // the recent rows' evidence is high: a relation that drifts apart shows in a stretch
            // of moderately unlikely rows before any one row is extreme. It goes on while either
            // holds.
            const bool unusual = out.log_p < level * levels.hold_exponent;
            const bool sustained = m_evidence > levels.hold_evidence;
            out.holds =
                m_event.active ? unusual || sustained : out.log_p < level || (unusual && sustained);
            const double r = out.log_p / level;
            out.score = r / (1 + r);
            out.event = &m_event;
        }
    }
    if (out.holds && !m_event.active) // an onset (the detector's onset logic starts an event)
        m_raise += levels.onset_raise;
    m_raise =
        std::max(0.0, m_raise - levels.onset_raise * levels.onsets_per_day * m_interval / kDayMs);
    learn(out.holds ? levels.flagged_weight : 1.0, levels);
    return out;
}

double
JointState::effective_rows(std::size_t k,
                           const std::array<std::size_t, kJointChannels>& act) const noexcept {
    double rho = 0;
    for (std::size_t i = 0; i < k; ++i)
        rho += std::clamp(m_lag[act[i]] / m_cov[act[i]][act[i]], 0.0, 0.999);
    rho = k > 0 ? rho / static_cast<double>(k) : 0.0;
    return m_weight * (1 - rho) / (1 + rho);
}

void JointState::learn(double weight, const JointLevels& levels) noexcept {
    // Exponentially weighted mean and (biased) covariance with per-row weights (West 1979).
    const double keep = std::exp2(-1.0 / levels.halflife_rows);
    m_weight = keep * m_weight + weight;
    const double r = weight / m_weight;
    std::array<double, kJointChannels> d{};
    for (std::size_t i = 0; i < m_channels; ++i) {
        d[i] = m_row[i] - m_mean[i];
        if (m_weight > weight)
            m_lag[i] += r * (d[i] * (m_prev[i] - m_mean[i]) - m_lag[i]);
        m_prev[i] = m_row[i];
        m_mean[i] += r * d[i];
    }
    for (std::size_t i = 0; i < m_channels; ++i)
        for (std::size_t j = 0; j <= i; ++j) {
            const double c = (1 - r) * (m_cov[i][j] + r * d[i] * d[j]);
            m_cov[i][j] = c;
            m_cov[j][i] = c;
        }
}

} // namespace iots::detect
