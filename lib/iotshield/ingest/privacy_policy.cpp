#include "iotshield/ingest/privacy_policy.hpp"

#include "iotshield/core/duration.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/record/sensor.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace iots::ingest {

namespace {

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
            ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t')
            ++i;
        if (i > start)
            out.push_back(line.substr(start, i - start));
    }
    return out;
}

bool safety(std::string_view sensor) {
    return sensor == "flame" || sensor == "gas";
}

} // namespace

double round_to(double v, double step) noexcept {
    const double inverse = 1.0 / step;
    const double whole = std::round(inverse);
    if (step < 1 && std::fabs(inverse - whole) < 1e-9 * whole) // 0.1, 0.25, 0.5: divide
        return std::round(v * whole) / whole;
    return std::round(v / step) * step;
}

PrivacyPolicy PrivacyPolicy::parse(std::string_view text, const std::string& where) {
    PrivacyPolicy p;
    std::size_t line_no = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line_no;
        if (const auto hash = line.find('#'); hash != std::string_view::npos)
            line = line.substr(0, hash);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        const auto w = words(line);
        if (w.empty())
            continue;
        const auto bad = [&](const std::string& why) {
            return Error(Exit::config, fmt::format("{}:{}: {}", where, line_no, why));
        };
        SensorRule rule;
        rule.sensor = std::string(w[0]);
        if (rule.sensor != "*" && !record::valid_name(rule.sensor))
            throw bad(
                fmt::format("'{}' is not a sensor kind (A-Z a-z 0-9 _ . -) or *", rule.sensor));
        for (const auto& r : p.m_rules)
            if (r.sensor == rule.sensor)
                throw bad(fmt::format("a second rule for {}", rule.sensor));
        if (w.size() < 2)
            throw bad(
                fmt::format("{}: no action (keep, drop, round STEP, time DURATION)", rule.sensor));
        bool keep = false;
        for (std::size_t i = 1; i < w.size(); ++i) {
            if (w[i] == "keep" || w[i] == "drop") {
                if (w.size() != 2)
                    throw bad(fmt::format("{} stands alone on its line", w[i]));
                keep = w[i] == "keep";
                rule.drop = w[i] == "drop";
            } else if (w[i] == "round" || w[i] == "time") {
                const bool is_round = w[i] == "round";
                if ((is_round && rule.round_step > 0) || (!is_round && rule.time_step > 0))
                    throw bad(fmt::format("{} given twice", w[i]));
                if (i + 1 == w.size())
                    throw bad(fmt::format("{} needs a {}", w[i], is_round ? "step" : "duration"));
                const std::string_view arg = w[++i];
                if (is_round) {
                    double step = 0;
                    const auto [ptr, ec] =
                        std::from_chars(arg.data(), arg.data() + arg.size(), step);
                    if (ec != std::errc{} || ptr != arg.data() + arg.size() ||
                        !std::isfinite(step) || step <= 0)
                        throw bad(fmt::format("round: '{}' is not a positive number", arg));
                    rule.round_step = step;
                } else {
                    const auto ms = core::parse_duration(arg);
                    if (!ms || *ms <= 0 || 86400000 % *ms != 0)
                        throw bad(fmt::format("time: '{}' is not a duration that divides a day "
                                              "(like 1m, 5m, 15m, 1h)",
                                              arg));
                    rule.time_step = *ms;
                }
            } else {
                throw bad(fmt::format("unknown action '{}' (keep, drop, round STEP, time "
                                      "DURATION)",
                                      w[i]));
            }
        }
        if (safety(rule.sensor) && !keep)
            throw bad(
                fmt::format("{} is a safety signal: it is kept as it is (keep)", rule.sensor));
        if (rule.sensor == "temperature" && rule.drop)
            throw bad("temperature: heat is a safety signal: it may be rounded, not dropped");
        p.m_rules.push_back(std::move(rule));
    }
    return p;
}

PrivacyPolicy PrivacyPolicy::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(Exit::no_input, fmt::format("--privacy-policy {}: cannot read: {}", path,
                                                std::strerror(errno)));
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str(), path);
}

const SensorRule* PrivacyPolicy::find(std::string_view sensor) const noexcept {
    const SensorRule* any = nullptr;
    for (const auto& r : m_rules) {
        if (r.sensor == sensor)
            return &r;
        if (r.sensor == "*")
            any = &r;
    }
    // "*" never reaches a safety signal: flame, gas and temperature only by a line of their own.
    return safety(sensor) || sensor == "temperature" ? nullptr : any;
}

bool PrivacyPolicy::apply(record::Reading& r) const {
    if (m_rules.empty()) // no policy: every reading as it is
        return true;
    const SensorRule* rule = find(r.sensor);
    if (rule == nullptr)
        return true;
    if (rule->drop)
        return false;
    if (rule->round_step > 0)
        r.value = round_to(r.value, rule->round_step);
    if (rule->time_step > 0) {
        const core::Millis floored =
            r.ts - ((r.ts % rule->time_step) + rule->time_step) % rule->time_step;
        r.ts = floored;
    }
    return true;
}

} // namespace iots::ingest
