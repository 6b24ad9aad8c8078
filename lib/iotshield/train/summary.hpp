#pragma once
// iots-train's summary on stderr: the series too short to train, what each model learnt, and the
// closing line.
#include "iotshield/core/log.hpp"
#include "iotshield/detect/model.hpp"

#include <string>

namespace iots::train {

// "<device>/<sensor>: N readings, too few to train ..." for every group skipped.
void log_skipped(const core::Logger& log, const detect::TrainResult& result,
                 const detect::TrainOptions& options);
// "<device>/<sensor>: N rows, threshold ..." for every series of the model.
void log_series(const core::Logger& log, const detect::Model& model);

struct Totals {
    std::uint64_t rows = 0, left_out = 0, rejected = 0;
    double read_ms = 0, train_ms = 0;
};
// "4 models from 1000 readings (...); read 3 ms, trained 40 ms; time zone UTC; wrote a.iotsmodel"
void log_done(const core::Logger& log, const detect::Model& model, const Totals& totals,
              const std::string& model_path);

} // namespace iots::train
