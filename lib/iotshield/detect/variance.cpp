#include "iotshield/detect/variance.hpp"

#include "iotshield/detect/raw_state.hpp"
#include "iotshield/detect/typical_step.hpp"

#include <algorithm>
#include <cmath>

namespace iots::detect {

namespace {
constexpr double kVarianceStepFloor = 0.5; // the window's scale is at least this share of the step
constexpr double kVarianceDown = 0.1;      // weight of a reading while r is unusual
constexpr double kVarianceDevClip = 3.0;
// Per look (every kVarianceEvery readings): the rates and counts of readings in looks.
constexpr double kVarianceLookEvery = static_cast<double>(kVarianceEvery);
constexpr double kVarianceLookRate = kVarianceLookEvery * kVarianceRate;
constexpr std::uint32_t kVarianceLookAdopt = kVarianceAdopt / kVarianceEvery;
constexpr std::uint32_t kVarianceLookRearm = 64 / kVarianceEvery;
} // namespace

bool VarianceCheck::state_valid() const noexcept {
    return std::isfinite(m_log_scale) && std::isfinite(m_dev) && m_dev >= 0 &&
           std::isfinite(m_max) && std::isfinite(m_r) && std::isfinite(m_step) && m_step >= 0 &&
           std::isfinite(m_value) && valid_time(m_look) && valid_time(m_first) &&
           std::isfinite(m_pending) && valid_time(m_pending_since) && valid_bool(m_pending_set) &&
           valid_bool(m_known) && valid_bool(m_armed);
}

void VarianceCheck::learn_step(double value) noexcept {
    learn_typical_step(m_step, m_value, value);
    m_value = value;
}

bool VarianceCheck::observe(core::Millis ts, double value, double window_scale,
                            core::Millis quiet_ms) noexcept {
    if (!std::isfinite(value) || !std::isfinite(window_scale))
        return false;
    if (m_n > 0) {
        learn_step(value);
    } else {
        m_value = value;
        m_first = ts;
    }
    ++m_n;
    if (!(window_scale >= 0))
        return false; // not a look, or the window is not full yet
    const double scale = std::max({window_scale, kVarianceStepFloor * m_step, 1e-9});
    const double ls = std::log(scale);
    const double since = m_known ? static_cast<double>(std::max<core::Millis>(ts - m_look, 0)) : 0;
    m_look = ts;
    if (!m_known) {
        m_log_scale = ls;
        m_known = true;
        return false;
    }
    // The largest ratio sinks by the novelty margin a week, before it judges this one.
    m_max -= std::log(kVarianceNovelty) * since / static_cast<double>(kVarianceMaxSinkMs);
    double r = ls - m_log_scale;
    const bool judged = m_n > kVarianceWarm && ts - m_first >= quiet_ms;
    const double level = std::max(std::log(kVarianceMinRatio), kVarianceK * m_dev);
    const bool fire = judged && m_armed && r > level && r > m_max + std::log(kVarianceNovelty);
    if (fire)
        m_armed = false;
    if (std::fabs(r) > 0.5 * level) {
        ++m_high;
        m_low = 0;
    } else {
        ++m_low;
        m_high = 0;
    }
    if (!m_armed && m_low >= kVarianceLookRearm)
        m_armed = true;
    if (m_high >= kVarianceLookAdopt) { // a lasting change: the new normal
        m_log_scale = ls;
        m_high = 0;
        r = 0;
    }
    m_r = r;
    // An unusual ratio joins the series' usual swings a day after it was seen: a step that
    // recurs daily (a thermostat's schedule) is news on its first day only, a fault minutes
    // after a false start is still news.
    if (r <= level || !judged) {
        m_max = std::max(m_max, r);
    } else {
        if (!m_pending_set || r > m_pending) {
            if (!m_pending_set)
                m_pending_since = ts;
            m_pending = r;
            m_pending_set = true;
        }
    }
    if (m_pending_set && ts - m_pending_since >= kVariancePendingMs) {
        m_max = std::max(m_max, m_pending);
        m_pending_set = false;
    }
    const double w = judged && std::fabs(r) > 0.5 * level ? kVarianceDown : 1.0;
    m_log_scale += w * kVarianceLookRate * r;
    m_dev += w * kVarianceLookRate * (std::min(std::fabs(r), kVarianceDevClip) - m_dev);
    return fire;
}

} // namespace iots::detect
