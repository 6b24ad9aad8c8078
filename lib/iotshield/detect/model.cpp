#include "iotshield/detect/model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace iots::detect {

namespace {

// The value at quantile p (0..1) of v, by rank floor(p (n-1)); v is reordered.
double quantile(std::vector<double>& v, double p) {
    if (v.empty())
        return 0;
    const auto k = static_cast<std::size_t>(std::floor(p * static_cast<double>(v.size() - 1)));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

std::uint64_t fnv1a(std::string_view a, std::string_view b) {
    std::uint64_t h = 1469598103934665603ULL;
    auto mix = [&](std::string_view s) {
        for (char ch : s) {
            const auto c = static_cast<unsigned char>(ch);
            h ^= c;
            h *= 1099511628211ULL;
        }
        h ^= 0xFF; // separator
        h *= 1099511628211ULL;
    };
    mix(a);
    mix(b);
    return h;
}

void sort_history(History& h) {
    if (h.ts.size() != h.values.size())
        throw std::invalid_argument("history: ts and values differ in length");
    if (std::is_sorted(h.ts.begin(), h.ts.end()))
        return;
    std::vector<std::size_t> order(h.ts.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return h.ts[a] < h.ts[b]; });
    std::vector<core::Millis> ts(order.size());
    std::vector<double> values(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        ts[i] = h.ts[order[i]];
        values[i] = h.values[order[i]];
    }
    h.ts = std::move(ts);
    h.values = std::move(values);
}

// What one pass of the streaming layer over normal data tells about a group.
struct Pass {
    std::vector<double> columns; // feature rows, kFeatures per reading
    std::vector<double> z, spike;
    std::vector<double> intervals;
    // In-order, non-duplicate readings of every member, members one after another.
    std::vector<core::Millis> ts;
    std::vector<double> values;
    std::vector<std::size_t> member_end;
    int max_run = 0;
    double min = HUGE_VAL, max = -HUGE_VAL;
    core::Millis first = 0, last = 0;
    std::uint64_t readings = 0;
};

void run_pass(History& h, const SafetyLevels& safety, const StreamLevels& stream,
              const core::Zone& zone, Pass& p) {
    sort_history(h);
    const bool first_member = p.readings == 0;
    SeriesState state(record::sensor_kind(h.sensor));
    const SeriesLevels defaults;
    Observation obs;
    for (std::size_t i = 0; i < h.ts.size(); ++i) {
        state.observe(h.ts[i], zone.local(h.ts[i]), h.values[i], safety, stream, defaults, obs);
        ++p.readings;
        if (!obs.in_order || obs.duplicate)
            continue;
        if (i > 0 && h.ts[i] > h.ts[i - 1])
            p.intervals.push_back(static_cast<double>(h.ts[i] - h.ts[i - 1]));
        p.ts.push_back(h.ts[i]);
        p.values.push_back(h.values[i]);
        p.min = std::min(p.min, h.values[i]);
        p.max = std::max(p.max, h.values[i]);
        p.max_run = std::max(p.max_run, obs.run);
        if (!obs.features_valid)
            continue;
        p.columns.insert(p.columns.end(), obs.features.begin(), obs.features.end());
        p.z.push_back(obs.z);
        p.spike.push_back(obs.spike);
    }
    p.member_end.push_back(p.ts.size());
    if (!h.ts.empty()) {
        p.first = first_member ? h.ts.front() : std::min(p.first, h.ts.front());
        p.last = first_member ? h.ts.back() : std::max(p.last, h.ts.back());
    }
}
// A series of only 0 and 1 is an event series (a PIR, a contact), whatever its name.
bool is_binary(const std::vector<double>& v) {
    return !v.empty() && std::all_of(v.begin(), v.end(), [](double x) { return x == 0 || x == 1; });
}

constexpr double kProfileMargin = 1.25;      // over the in-sample maximum (short histories)
constexpr double kHeldOutMargin = 1.1;       // over the maximum on held-out days
constexpr double kHeldOutMinMs = 4 * kDayMs; // histories from twice this long hold out days
constexpr double kHeldOutShare = 0.3;        // the last share of the training span is held out
constexpr double kProfileFloor = 4.0;        // an hour-long mean deviation of 4 robust spreads
constexpr double kProfileFloorBinary = 12.0; // a likelihood ratio of e^12

// Largest statistic over the readings at or after `from_ts` (the state runs over all of them).
double profile_max(const Profile& profile, const Pass& p, const core::Zone& zone,
                   core::Millis from_ts = std::numeric_limits<core::Millis>::min()) {
    double mx = 0;
    std::size_t from = 0;
    for (std::size_t end : p.member_end) {
        ProfileState st;
        for (std::size_t i = from; i < end; ++i) {
            const double v = st.observe(profile, p.ts[i], zone.local(p.ts[i]), p.values[i]);
            if (p.ts[i] >= from_ts)
                mx = std::max(mx, v);
        }
        from = end;
    }
    return mx;
}

// The profile's statistic at every reading, members one after another, in time order.
std::vector<double> profile_values(const Profile& profile, const Pass& p, const core::Zone& zone) {
    std::vector<double> out;
    out.reserve(p.ts.size());
    std::size_t from = 0;
    for (std::size_t end : p.member_end) {
        ProfileState st;
        for (std::size_t i = from; i < end; ++i)
            out.push_back(st.observe(profile, p.ts[i], zone.local(p.ts[i]), p.values[i]));
        from = end;
    }
    return out;
}

// The activity count over its hour's level at every reading (activity_ratio).
std::vector<double> activity_values(const ActivityProfile& a, const Pass& p,
                                    const core::Zone& zone) {
    std::vector<double> out;
    out.reserve(p.ts.size());
    std::size_t from = 0;
    for (std::size_t end : p.member_end) {
        ActivityState st;
        for (std::size_t i = from; i < end; ++i)
            out.push_back(activity_ratio(a, st.observe(p.ts[i], p.values[i]), zone.local(p.ts[i])));
        from = end;
    }
    return out;
}

// The statistic's maximum on days the profile has not seen: the profile is fitted on the first
// part of the history and run over the rest. An in-sample maximum fits the days it was learnt
// from, includes the first day while the slow level settles, and needed a wide, arbitrary margin.
// Returns a negative number when the history is too short to hold days out.
double held_out_max(const Pass& p, bool binary, double interval, const core::Zone& zone) {
    const auto span = static_cast<double>(p.last - p.first);
    if (span < 2 * kHeldOutMinMs)
        return -1;
    const auto cut = p.first + static_cast<core::Millis>((1.0 - kHeldOutShare) * span);
    std::vector<core::Millis> ts;
    std::vector<double> values;
    for (std::size_t i = 0; i < p.ts.size(); ++i)
        if (p.ts[i] < cut) {
            ts.push_back(p.ts[i]);
            values.push_back(p.values[i]);
        }
    if (ts.size() < 2)
        return -1;
    // Members one after another: build_profile wants each in order; buckets do not care.
    const Profile fit = build_profile(ts, values, binary, interval, zone);
    return profile_max(fit, p, zone, cut);
}
} // namespace

std::string_view scope_name(Scope s) noexcept {
    return s == Scope::kind ? "kind" : "series";
}

const SeriesModel* Model::find(std::string_view device, std::string_view sensor) const noexcept {
    const SeriesModel* kind = nullptr;
    for (const auto& s : series) {
        if (s.sensor != sensor)
            continue;
        if (s.device == device)
            return &s;
        if (s.device.empty())
            kind = &s;
    }
    return kind;
}

FeatureMatrix feature_matrix(History& h, const SafetyLevels& safety, const StreamLevels& stream,
                             const core::Zone& zone) {
    Pass p;
    run_pass(h, safety, stream, zone, p);
    FeatureMatrix m;
    m.rows = kFeatures;
    m.cols = p.columns.size() / kFeatures;
    m.values = std::move(p.columns);
    m.values.resize(m.rows * m.cols);
    return m;
}

TrainResult train(std::vector<History> histories, const TrainOptions& options) {
    if (!(options.false_alarm_rate > 0) || !std::isfinite(options.false_alarm_rate))
        throw std::invalid_argument("false-alarm rate must be a positive number");
    TrainResult result;
    Model& model = result.model;
    model.params = options.forest;
    model.false_alarm_rate = options.false_alarm_rate;
    model.scope = options.scope;
    model.zone = options.zone.name();
    const core::Zone& zone = options.zone;

    // Group: one per series, or one per sensor name (device left empty).
    std::map<std::pair<std::string, std::string>, std::vector<History*>> groups;
    for (auto& h : histories) {
        std::string device = options.scope == Scope::kind ? std::string() : h.device;
        groups[{device, h.sensor}].push_back(&h);
    }
    bool any = false;
    for (auto& [key, members] : groups) {
        Pass p;
        for (History* h : members)
            run_pass(*h, options.safety, options.stream, zone, p);
        TrainedGroup g{key.first, key.second, p.readings, p.columns.size() / kFeatures, false};
        if (g.rows < std::max<std::size_t>(options.min_rows, 2)) {
            g.skipped = true;
            result.groups.push_back(std::move(g));
            continue;
        }
        SeriesModel sm;
        sm.device = key.first;
        sm.sensor = key.second;
        sm.rows = g.rows;
        sm.first_ts = p.first;
        sm.last_ts = p.last;
        sm.normal_min = p.min;
        sm.normal_max = p.max;
        const double interval = p.intervals.empty() ? 5000.0 : quantile(p.intervals, 0.5);
        sm.interval_ms = static_cast<std::int64_t>(interval);
        // The per-reading quantile that gives `false_alarm_rate` alarms a day at this rate.
        const double q =
            std::clamp(options.false_alarm_rate * std::max(interval, 1.0) / kDayMs, 1e-12, 0.5);

        const Points X{p.columns.data(), kFeatures, g.rows};
        ForestParams fp = options.forest;
        fp.seed = options.forest.seed ^ fnv1a(sm.device, sm.sensor);
        sm.forest = Forest::train(X, fp);
        std::vector<double> s = sm.forest.score_batch(X);
        sm.tails[static_cast<std::size_t>(ModelStat::forest)].fit(s); // in time order
        const double median = quantile(s, 0.5);
        const double at_rate = quantile(s, 1.0 - q);
        sm.score_quantiles = {median, quantile(s, 0.9), quantile(s, 0.99), quantile(s, 0.999),
                              *std::max_element(s.begin(), s.end())};
        // Scores of unseen normal data run a little above in-sample ones: keep a margin.
        sm.threshold = std::min(at_rate + 0.1 * std::max(at_rate - median, 0.0), 0.99);

        // The profile's CUSUM level: above the largest value it reaches on held-out normal days
        // (fitted on the first part of the history); on a short history, above the in-sample
        // maximum with a wider margin.
        const bool binary = record::sensor_kind(sm.sensor) == record::SensorKind::flame ||
                            record::sensor_kind(sm.sensor) == record::SensorKind::motion ||
                            is_binary(p.values);
        sm.profile = build_profile(p.ts, p.values, binary, interval, zone);
        sm.profile_train_max = profile_max(sm.profile, p, zone);
        const double held = held_out_max(p, binary, interval, zone);
        sm.profile.limit =
            std::max(held >= 0 ? kHeldOutMargin * held : kProfileMargin * sm.profile_train_max,
                     binary ? kProfileFloorBinary : kProfileFloor);

        sm.tails[static_cast<std::size_t>(ModelStat::profile)].fit(
            profile_values(sm.profile, p, zone));
        if (binary) {
            sm.activity = build_activity(p.ts, p.values, p.member_end, zone);
            sm.tails[static_cast<std::size_t>(ModelStat::activity)].fit(
                activity_values(sm.activity, p, zone));
        } else if (options.kmeans) {
            sm.kmeans = train_kmeans(p.values, p.member_end, q);
        }

        const StreamLevels& st = options.stream;
        sm.tails[static_cast<std::size_t>(ModelStat::z)].fit(p.z);
        sm.tails[static_cast<std::size_t>(ModelStat::spike)].fit(p.spike);
        sm.levels.z = std::max(st.z, 1.1 * quantile(p.z, 1.0 - q));
        sm.levels.spike = std::max(st.spike, 1.1 * quantile(p.spike, 1.0 - q));
        sm.levels.stuck_min = std::max(st.stuck_min, p.max_run + 1);
        sm.levels.heat_c = record::sensor_kind(sm.sensor) == record::SensorKind::temperature
                               ? heat_level_for(p.max, options.safety.heat_c)
                               : options.safety.heat_c;
        if (!any || p.first < model.train_from)
            model.train_from = p.first;
        if (!any || p.last > model.train_to)
            model.train_to = p.last;
        any = true;
        model.series.push_back(std::move(sm));
        result.groups.push_back(std::move(g));
    }
    return result;
}

} // namespace iots::detect
