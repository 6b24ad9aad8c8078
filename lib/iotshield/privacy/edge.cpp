#include "iotshield/privacy/edge.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/record/safety.hpp"
#include "iotshield/record/sensor.hpp"
#include "iotshield/record/serialize.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace iots::privacy {

namespace {

// Noised temperatures stay below the heat level: a noised value never raises the heat alarm.
constexpr double kTemperatureTop = 56.0;

int kind_index(std::string_view sensor) {
    for (std::size_t i = 0; i < kEdgeKinds.size(); ++i)
        if (kEdgeKinds[i] == sensor)
            return static_cast<int>(i);
    return -1;
}

std::optional<double> number(std::string_view s) {
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
        return std::nullopt;
    return v;
}

std::string num(double v) {
    std::string s;
    record::append_number(v, s);
    return s;
}

} // namespace

std::optional<Range> edge_default_clamp(std::string_view kind) {
    if (kind_index(kind) < 0)
        return std::nullopt;
    const auto info = record::sensor_info(kind);
    Range r{info->min, info->max};
    if (kind == "temperature")
        r.hi = kTemperatureTop;
    return r;
}

std::pair<std::string, Range> parse_edge_clamp(std::string_view text) {
    const auto bad = [&](const std::string& why) {
        return Error(Exit::usage, fmt::format("--dp-clamp: '{}': {}", text, why));
    };
    const auto eq = text.find('=');
    const auto colon = text.find(':', eq == std::string_view::npos ? 0 : eq);
    if (eq == std::string_view::npos || colon == std::string_view::npos)
        throw bad("expected KIND=LO:HI, like temperature=10:35");
    const std::string kind(text.substr(0, eq));
    const auto def = edge_default_clamp(kind);
    if (!def)
        throw bad("edge noise covers temperature, humidity, motion and light only (gas and flame "
                  "are safety channels, sent exactly)");
    const auto lo = number(text.substr(eq + 1, colon - eq - 1));
    const auto hi = number(text.substr(colon + 1));
    if (!lo || !hi)
        throw bad("LO and HI must be numbers");
    if (!(*lo < *hi))
        throw bad("LO must be below HI");
    if (*lo < def->lo || *hi > def->hi)
        throw bad(fmt::format("{} is clamped within {}:{}{}", kind, num(def->lo), num(def->hi),
                              kind == "temperature" ? " (below the heat level)" : ""));
    if (kind == "motion")
        throw bad("motion is 0 or 1 already (randomized response)");
    return {kind, Range{*lo, *hi}};
}

std::int64_t readings_per_day(std::int64_t interval_ms) {
    constexpr std::int64_t kDay = 86400000;
    return (kDay + interval_ms - 1) / interval_ms + 1;
}

EdgeNoise::EdgeNoise(const EdgeOptions& options) : m_options(options) {
    const auto& o = m_options;
    if (!(o.day_epsilon > 0) || !std::isfinite(o.day_epsilon))
        throw Error(Exit::usage, "--dp-epsilon must be a number above 0");
    if (o.mech == Mech::gaussian && !(o.day_delta > 0 && o.day_delta < 1))
        throw Error(Exit::usage, "--dp-delta must be above 0 and below 1 for --dp-mech gaussian");
    if (o.readings_per_day <= 0)
        throw Error(Exit::usage, "edge noise: no readings to noise");
    const auto n = static_cast<double>(o.readings_per_day);
    m_eps = o.day_epsilon / n;
    m_delta = o.mech == Mech::gaussian ? o.day_delta / n : 0.0;
    if (m_eps < std::ldexp(1.0, -20))
        throw Error(Exit::usage,
                    fmt::format("--dp-epsilon {}: split over the {} noised readings the home sends "
                                "a day it leaves {:.3g} a reading, below the samplers' smallest "
                                "(2^-20, 9.5e-07): raise --dp-epsilon or --interval, or simulate "
                                "fewer nodes",
                                num(o.day_epsilon), o.readings_per_day, m_eps));
    if (m_eps > kMaxEpsilon)
        throw Error(Exit::usage, fmt::format("--dp-epsilon {}: {:.3g} a reading is above {}",
                                             num(o.day_epsilon), m_eps, kMaxEpsilon));
    for (std::size_t i = 0; i < kEdgeKinds.size(); ++i) {
        Kind& k = m_kinds[i];
        k.range = *edge_default_clamp(kEdgeKinds[i]);
        for (const auto& [name, range] : o.clamps)
            if (name == kEdgeKinds[i])
                k.range = range;
        const double sensitivity = k.range.hi - k.range.lo;
        std::string mech;
        if (kEdgeKinds[i] == "motion") {
            mech = "randomized_response";
        } else {
            try {
                k.mech = o.mech == Mech::laplace ? make_laplace(sensitivity, m_eps)
                                                 : make_gaussian(sensitivity, m_eps, m_delta);
            } catch (const std::invalid_argument& e) {
                throw Error(Exit::usage,
                            fmt::format("edge noise: {} at epsilon {:.3g} a reading: {}",
                                        kEdgeKinds[i], m_eps, e.what()));
            }
            mech = std::string(to_string(o.mech));
        }
        // {"mech":…,"epsilon":…,"delta":…,"sensitivity":…,"clamp":[lo,hi],"day_epsilon":…,
        //  "day_delta":…}: this reading's cost, and the day's it is a share of.
        k.note = fmt::format(R"("privacy":{{"mech":"{}","epsilon":{})", mech, num(m_eps));
        if (m_delta > 0 && kEdgeKinds[i] != "motion")
            k.note += fmt::format(R"(,"delta":{})", num(m_delta));
        k.note +=
            fmt::format(R"(,"sensitivity":{},"clamp":[{},{}],"day_epsilon":{})", num(sensitivity),
                        num(k.range.lo), num(k.range.hi), num(o.day_epsilon));
        if (o.mech == Mech::gaussian)
            k.note += fmt::format(R"(,"day_delta":{})", num(o.day_delta));
        k.note += '}';
    }
}

const EdgeNoise::Kind* EdgeNoise::find(std::string_view sensor) const {
    const int i = kind_index(sensor);
    return i < 0 ? nullptr : &m_kinds[static_cast<std::size_t>(i)];
}

Range EdgeNoise::clamp_of(std::string_view kind) const {
    const Kind* k = find(kind);
    if (k == nullptr)
        throw std::invalid_argument("not an edge-noised kind");
    return k->range;
}

double EdgeNoise::scale_of(std::string_view kind) const {
    const Kind* k = find(kind);
    if (k == nullptr || kind == "motion")
        throw std::invalid_argument("not a numeric edge-noised kind");
    return k->mech.scale();
}

bool EdgeNoise::apply(record::Reading& r, RandomSource& rng) const {
    const Kind* k = find(r.sensor);
    if (k == nullptr)
        return false; // gas, flame and any other series: sent as they are
    if (r.sensor == "temperature" && r.value >= record::kHeatDangerC)
        return false; // heat: safety acts on the true value
    if (r.sensor == "motion") {
        r.value = randomized_response(r.value >= 0.5, m_eps, rng) ? 1 : 0;
    } else {
        const double noised = release(k->mech, clamp(r.value, k->range), rng);
        r.value = clamp(noised, k->range);
    }
    if (!r.extra.empty())
        r.extra.push_back(',');
    r.extra += k->note;
    return true;
}

} // namespace iots::privacy
