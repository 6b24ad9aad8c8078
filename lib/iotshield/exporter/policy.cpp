#include "iotshield/exporter/policy.hpp"

#include "iotshield/core/duration.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/core/printable.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace iots::exporter {

namespace {
using Json = nlohmann::json;

constexpr core::Millis kDayMs = 86400000;

class Checker {
public:
    explicit Checker(const std::string& where) : m_where(where) {}
    [[noreturn]] void fail(const std::string& path, const std::string& what) const {
        throw Error(Exit::config, m_where + ": " + core::printable(path) + ": " + what);
    }
    void only(const Json& obj, const std::string& path,
              std::initializer_list<const char*> keys) const {
        if (!obj.is_object())
            fail(path.empty() ? "(top)" : path, "not an object");
        for (const auto& [k, v] : obj.items()) {
            (void)v;
            if (std::none_of(keys.begin(), keys.end(), [&](const char* x) { return k == x; }))
                fail(join(path, k), "unknown key");
        }
    }
    const Json& need(const Json& obj, const std::string& path, const char* k) const {
        const auto it = obj.find(k);
        if (it == obj.end())
            fail(join(path, k), "missing");
        return *it;
    }
    double number(const Json& v, const std::string& path) const {
        if (!v.is_number())
            fail(path, "not a number");
        const double d = v.get<double>();
        if (!std::isfinite(d))
            fail(path, "not a finite number");
        return d;
    }
    double positive(const Json& v, const std::string& path, double hi) const {
        const double d = number(v, path);
        if (!(d > 0) || d > hi) {
            std::ostringstream s;
            s << "must be above 0 and at most " << hi;
            fail(path, s.str());
        }
        return d;
    }
    std::string text(const Json& v, const std::string& path) const {
        if (!v.is_string())
            fail(path, "not a string");
        return v.get<std::string>();
    }
    static std::string join(const std::string& path, const std::string& k) {
        return path.empty() ? k : path + "." + k;
    }

private:
    const std::string& m_where;
};

SensorPolicy sensor_policy(const Checker& c, const std::string& name, const Json& j) {
    const std::string path = "sensors." + name;
    SensorPolicy s;
    s.sensor = name;
    c.only(j, path, {"release", "mechanism", "epsilon", "delta", "range", "min_max", "max_count"});
    const std::string release = c.text(c.need(j, path, "release"), path + ".release");
    if (release == "mean")
        s.release = Release::mean;
    else if (release == "count")
        s.release = Release::count;
    else if (release == "any")
        s.release = Release::any;
    else
        c.fail(path + ".release", "'" + release + "' is not mean, count or any");
    s.epsilon = c.positive(c.need(j, path, "epsilon"), path + ".epsilon", privacy::kMaxEpsilon);
    const auto only_for = [&](const char* key, Release r, const char* what) {
        if (j.contains(key) && s.release != r)
            c.fail(path + "." + key, std::string("only for release ") + what);
    };
    only_for("range", Release::mean, "mean");
    only_for("min_max", Release::mean, "mean");
    only_for("mechanism", Release::mean, "mean");
    only_for("delta", Release::mean, "mean");
    only_for("max_count", Release::count, "count");
    if (s.release == Release::mean) {
        const Json& r = c.need(j, path, "range");
        if (!r.is_array() || r.size() != 2)
            c.fail(path + ".range", "not [lo, hi]");
        s.range = {c.number(r[0], path + ".range[0]"), c.number(r[1], path + ".range[1]")};
        if (!(s.range.lo < s.range.hi))
            c.fail(path + ".range", "lo is not below hi");
        if (j.contains("min_max")) {
            if (!j["min_max"].is_boolean())
                c.fail(path + ".min_max", "not true or false");
            s.min_max = j["min_max"].get<bool>();
        }
        const std::string mech =
            j.contains("mechanism") ? c.text(j["mechanism"], path + ".mechanism") : "laplace";
        if (mech == "laplace")
            s.mech = privacy::Mech::laplace;
        else if (mech == "gaussian")
            s.mech = privacy::Mech::gaussian;
        else
            c.fail(path + ".mechanism", "'" + mech + "' is not laplace or gaussian");
        if (s.mech == privacy::Mech::gaussian) {
            s.delta = c.positive(c.need(j, path, "delta"), path + ".delta", 0.01);
        } else if (j.contains("delta")) {
            c.fail(path + ".delta", "only for mechanism gaussian");
        }
        // Build the mechanism once here, so a parameter it refuses is a configuration error.
        try {
            const double sens = s.range.hi - s.range.lo;
            if (s.mech == privacy::Mech::laplace)
                (void)privacy::make_laplace(sens, s.epsilon);
            else
                (void)privacy::make_gaussian(sens, s.epsilon, s.delta);
        } catch (const std::invalid_argument& e) {
            c.fail(path, e.what());
        }
    } else if (s.release == Release::count) {
        const Json& m = c.need(j, path, "max_count");
        if (!m.is_number_integer() || m.get<std::int64_t>() < 1 ||
            m.get<std::int64_t>() > 100000000)
            c.fail(path + ".max_count", "not a whole number from 1 to 100000000");
        s.max_count = m.get<std::int64_t>();
    }
    if (s.epsilon < std::ldexp(1.0, -20))
        c.fail(path + ".epsilon", "below 2^-20");
    return s;
}
// What nlohmann says is wrong, without its exception id and position ("[json.exception.
// parse_error.101] parse error at line 1, column 2: syntax error while parsing value - "): the
// message names the file, line and column its own way.
std::string json_reason(std::string_view what) {
    const auto drop_through = [&](std::string_view starts, std::string_view until) {
        const auto at = what.find(until);
        if (what.substr(0, starts.size()) == starts && at != std::string_view::npos)
            what.remove_prefix(at + until.size());
    };
    drop_through("[json.exception.", "] ");
    drop_through("parse error", ": ");
    drop_through("syntax error", " - ");
    return core::printable(what);
}

// FILE:LINE:COLUMN of the byte a parse error names (1-based; 0: before the first).
std::string json_position(std::string_view text, std::size_t byte, const std::string& where) {
    const std::size_t at = std::min(byte == 0 ? 0 : byte - 1, text.size());
    const std::string_view before = text.substr(0, at);
    const auto line = 1 + std::count(before.begin(), before.end(), '\n');
    const auto nl = before.rfind('\n');
    const std::size_t column = at - (nl == std::string_view::npos ? 0 : nl + 1) + 1;
    return fmt::format("{}:{}:{}", where, line, column);
}
} // namespace

privacy::Cost SensorPolicy::cost_per_window() const {
    const double values = release == Release::mean && min_max ? 3.0 : 1.0;
    return {epsilon * values, delta * values};
}

const SensorPolicy* Policy::find(std::string_view sensor) const {
    for (const auto& s : sensors)
        if (s.sensor == sensor)
            return &s;
    return nullptr;
}

Policy parse_policy(std::string_view text, const std::string& where) {
    Json j;
    try {
        j = Json::parse(text);
    } catch (const Json::parse_error& e) {
        throw Error(Exit::config,
                    json_position(text, e.byte, where) + ": not JSON: " + json_reason(e.what()));
    } catch (const Json::exception& e) { // a number too large for a double
        throw Error(Exit::config, where + ": not JSON: " + json_reason(e.what()));
    }
    const Checker c(where);
    c.only(j, "", {"window", "budget", "sensors", "devices"});
    Policy p;
    if (j.contains("window")) {
        const std::string w = c.text(j["window"], "window");
        const auto ms = core::parse_duration(w);
        if (!ms || *ms <= 0 || kDayMs % *ms != 0)
            c.fail("window", "'" + w + "' is not a duration that divides a day (1h, 15min, 1d)");
        p.window_ms = *ms;
    }
    const Json& b = c.need(j, "", "budget");
    c.only(b, "budget", {"epsilon_per_day", "delta_per_day"});
    p.budget.epsilon =
        c.positive(c.need(b, "budget", "epsilon_per_day"), "budget.epsilon_per_day", 1e6);
    if (b.contains("delta_per_day"))
        p.budget.delta = c.positive(b["delta_per_day"], "budget.delta_per_day", 0.1);
    const Json& sensors = c.need(j, "", "sensors");
    if (!sensors.is_object() || sensors.empty())
        c.fail("sensors", "not an object of at least one sensor");
    for (const auto& [name, v] : sensors.items())
        p.sensors.push_back(sensor_policy(c, name, v));
    for (const auto& s : p.sensors)
        if (s.delta > 0 && p.budget.delta <= 0)
            c.fail("budget.delta_per_day", "missing, and sensors." + s.sensor + " uses gaussian");
    if (j.contains("devices")) {
        const Json& d = j["devices"];
        if (!d.is_array())
            c.fail("devices", "not an array of device names");
        for (std::size_t i = 0; i < d.size(); ++i)
            p.devices.push_back(c.text(d[i], "devices[" + std::to_string(i) + "]"));
    }
    return p;
}

Policy load_policy(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(Exit::no_input, "--policy " + path + ": cannot read: " + std::strerror(errno));
    std::ostringstream s;
    s << in.rdbuf();
    return parse_policy(s.str(), path);
}

} // namespace iots::exporter
