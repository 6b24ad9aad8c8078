#include "iotshield/score/model_setup.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/detect/model_file.hpp"

namespace iots::score {
namespace {

core::Zone model_zone(const std::string& path, const detect::Model& model,
                      const std::optional<core::Zone>& given, const core::Logger& log) {
    if (!given) {
        try {
            return core::Zone::named(model.zone);
        } catch (const Error& e) {
            throw Error(Exit::no_input, fmt::format("model {}: {}", path, e.what()));
        }
    }
    if (given->name() != model.zone)
        log.warn("--tz {} differs from the time zone of model {} ({}): its daily profiles were "
                 "learnt in {} hours",
                 given->name(), path, model.zone, model.zone);
    return *given;
}

} // namespace

ModelSetup load_model(const Options& o, const core::Logger& log) {
    ModelSetup setup{std::nullopt, o.detector};
    if (!o.model_path.empty()) {
        setup.model = detect::load_model(o.model_path);
        const detect::Model& m = *setup.model;
        log.info("model {}: {} series, trained on {} .. {}, time zone {}", o.model_path,
                 m.series.size(), core::format_rfc3339(m.train_from),
                 core::format_rfc3339(m.train_to), m.zone);
        setup.detector.zone = model_zone(o.model_path, m, o.zone, log);
    } else {
        log.info("no model: streaming checks only (iforest, profile and kmeans need iots-train's "
                 "model)");
        setup.detector.zone = o.zone ? *o.zone : core::Zone::from_environment();
    }
    return setup;
}

} // namespace iots::score
