#include "iotshield/exporter/windows.hpp"

#include "iotshield/record/aggregate.hpp"
#include "iotshield/store/windows.hpp"

#include <algorithm>
#include <optional>

namespace iots::exporter {

namespace {
// The sensitivity of a window's clamped mean. The privacy unit is all of the home's readings in a
// window: a neighbouring home differs in any or all of them, their number included, so the
// clamped mean can move anywhere in [lo, hi]: sensitivity hi - lo. (hi - lo) / n_min would hold
// only if one reading changed: the per-reading unit, whose noise an observer of hourly means sees
// through.) The same holds for the clamped min and max. An empty window releases the middle of
// the range plus the same noise.
double mean_sensitivity(const SensorPolicy& s) {
    return s.range.hi - s.range.lo;
}

} // namespace

Windows collect(store::Database& db, const Policy& policy, core::Millis since, core::Millis until,
                privacy::RandomSource& rng) {
    Windows w;
    std::string line;
    const std::int64_t window_s = policy.window_ms / 1000;
    for (const store::SeriesName& series : store::all_series(db)) {
        const SensorPolicy* s = policy.find(series.sensor);
        if (s == nullptr)
            continue; // not declared: stays home (flame, gas and heat too unless declared)
        if (!policy.devices.empty() && std::find(policy.devices.begin(), policy.devices.end(),
                                                 series.device) == policy.devices.end())
            continue;
        std::optional<privacy::GridMechanism> mech;
        if (s->release == Release::mean)
            mech = s->mech == privacy::Mech::laplace
                       ? privacy::make_laplace(mean_sensitivity(*s), s->epsilon)
                       : privacy::make_gaussian(mean_sensitivity(*s), s->epsilon, s->delta);
        const auto sums = store::window_sums(db, series, since, until, policy.window_ms,
                                             s->range.lo, s->range.hi);
        auto next = sums.begin();
        for (core::Millis start = since; start < until; start += policy.window_ms) {
            store::WindowSums ws{start};
            if (next != sums.end() && next->start == start)
                ws = *next++;
            record::Aggregate a;
            a.window_start = start;
            a.window_s = window_s;
            a.device = series.device;
            a.sensor = series.sensor;
            const privacy::Cost cost = s->cost_per_window();
            a.privacy.epsilon = cost.epsilon;
            a.privacy.delta = cost.delta;
            switch (s->release) {
            case Release::mean: {
                const double mid = 0.5 * (s->range.lo + s->range.hi);
                const double mean =
                    ws.count > 0 ? ws.clamped_sum / static_cast<double>(ws.count) : mid;
                a.mean = privacy::release(*mech, privacy::clamp(mean, s->range), rng);
                if (s->min_max) {
                    a.min = privacy::release(
                        *mech, ws.count > 0 ? privacy::clamp(ws.min, s->range) : mid, rng);
                    a.max = privacy::release(
                        *mech, ws.count > 0 ? privacy::clamp(ws.max, s->range) : mid, rng);
                }
                a.privacy.mech = privacy::to_string(s->mech);
                a.privacy.sensitivity = mean_sensitivity(*s);
                a.privacy.lo = s->range.lo;
                a.privacy.hi = s->range.hi;
                break;
            }
            case Release::count:
                // A window's count can move from 0 to max_count: sensitivity max_count.
                a.count = privacy::noisy_count(ws.nonzero, s->max_count, s->epsilon, rng);
                a.privacy.mech = "laplace";
                a.privacy.sensitivity = static_cast<double>(s->max_count);
                a.privacy.lo = 0;
                a.privacy.hi = static_cast<double>(s->max_count);
                break;
            case Release::any:
                a.any = privacy::randomized_response(ws.nonzero > 0, s->epsilon, rng);
                a.privacy.mech = "randomized_response";
                break;
            }
            line.clear();
            record::append_json(a, line);
            w.records.push_back(line);
            w.charges.push_back({start, cost});
        }
    }
    return w;
}

} // namespace iots::exporter
