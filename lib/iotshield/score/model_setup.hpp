#pragma once
// --model and --tz: the model loaded (what it holds logged) and the zone of the daily profiles.
#include "iotshield/detect/detector.hpp"
#include "iotshield/detect/model.hpp"
#include "iotshield/score/service.hpp"

#include <optional>

namespace iots::score {

struct ModelSetup {
    std::optional<detect::Model> model; // none: streaming checks only
    detect::DetectorOptions detector;   // Options::detector with the zone chosen
};

// The model's profiles were learnt in its zone: that is the default, and another --tz is obeyed
// with a warning (a household that moved, or a model trained before zones were recorded). Without
// a model: --tz, else $TZ, else UTC. Throws Error(no_input) for a model that cannot be loaded.
[[nodiscard]] ModelSetup load_model(const Options& options, const core::Logger& log);

} // namespace iots::score
