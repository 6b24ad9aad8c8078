#include "iotshield/train/summary.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace iots::train {

void log_skipped(const core::Logger& log, const detect::TrainResult& result,
                 const detect::TrainOptions& options) {
    for (const auto& g : result.groups)
        if (g.skipped)
            log.warn("{}/{}: {} readings, too few to train (need {} past warm-up): streaming "
                     "checks only",
                     g.device.empty() ? "*" : g.device, g.sensor, g.readings, options.min_rows);
}

void log_series(const core::Logger& log, const detect::Model& model) {
    for (const auto& s : model.series) {
        const auto& q = s.score_quantiles;
        std::string layers;
        if (!s.activity.empty()) {
            const auto [lo, hi] =
                std::minmax_element(s.activity.limit.begin(), s.activity.limit.end());
            layers += fmt::format(", activity level {:.1f} to {:.1f} events", *lo, *hi);
        }
        if (!s.kmeans.empty())
            layers += fmt::format(", k-means ensemble of {}", s.kmeans.models);
        log.info("{}/{}: {} rows, threshold {:.3f} (training scores p50 {:.3f} p90 {:.3f} p99 "
                 "{:.3f} p99.9 {:.3f} max {:.3f}), z {:.1f}, spike {:.1f}, stuck {}, heat {:g} C, "
                 "{} profile level {:.1f} (training max {:.1f}){}",
                 s.device.empty() ? "*" : s.device, s.sensor, s.rows, s.threshold, q[0], q[1], q[2],
                 q[3], q[4], s.levels.z, s.levels.spike, s.levels.stuck_min, s.levels.heat_c,
                 s.profile.binary ? "rate" : "level", s.profile.limit, s.profile_train_max, layers);
    }
}

void log_done(const core::Logger& log, const detect::Model& model, const Totals& t,
              const std::string& model_path) {
    log.info("{} models from {} readings ({} incident readings left out, {} rejected); read "
             "{:.0f} ms, trained {:.0f} ms; time zone {}; wrote {}",
             model.series.size(), t.rows, t.left_out, t.rejected, t.read_ms, t.train_ms, model.zone,
             model_path);
}

} // namespace iots::train
