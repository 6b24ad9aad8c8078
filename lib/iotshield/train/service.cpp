#include "iotshield/train/service.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/detect/model_file.hpp"
#include "iotshield/train/history.hpp"
#include "iotshield/train/summary.hpp"

#include <chrono>
#include <cmath>
#include <utility>

namespace iots::train {

int run(const Options& o, const core::Logger& log) {
    detect::TrainOptions opt = o.train;
    opt.forest.depth = static_cast<std::uint32_t>(std::ceil(std::log2(opt.forest.subsample)));
    const auto t0 = std::chrono::steady_clock::now();
    History history = read_history(o.db_path, o.filter, o.input, log);
    if (history.series.empty())
        throw Error(Exit::bad_input,
                    "no training readings (check --db, --since, --until, --device, --sensor)");
    const auto t1 = std::chrono::steady_clock::now();
    const detect::TrainResult result = detect::train(std::move(history.series), opt);
    const auto t2 = std::chrono::steady_clock::now();
    log_skipped(log, result, opt);
    log_series(log, result.model);
    if (result.model.series.empty())
        throw Error(Exit::bad_input, "no series had enough readings to train a model");
    detect::save_model(o.model_path, result.model);
    const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
    log_done(log, result.model,
             {history.rows, history.left_out, history.rejected, ms(t1 - t0), ms(t2 - t1)},
             o.model_path);
    return 0;
}

} // namespace iots::train
