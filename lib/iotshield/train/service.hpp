#pragma once
// iots-train: history in (SQLite or NDJSON on stdin), model file out, summary on stderr.
// The tool's main only parses options into Options and calls run().
#include "iotshield/core/log.hpp"
#include "iotshield/core/reject_policy.hpp"
#include "iotshield/detect/model.hpp"
#include "iotshield/store/scores.hpp"

#include <string>

namespace iots::train {

struct Options {
    std::string db_path;      // empty: NDJSON on stdin
    core::RejectPolicy input; // stdin: --strict, --max-bad-lines, --max-line-bytes
    std::string model_path;
    store::HistoryFilter filter;
    detect::TrainOptions train; // forest.depth is set by run(), from forest.subsample
};

// Reads the history, trains, logs what each series learnt and writes the model. Throws
// iots::Error for the exit codes of DESIGN §5: 65 when no series has readings enough to train or a
// rejected line ends the reading (--strict, --max-bad-lines; nothing written), 1 when SIGINT/
// SIGTERM stopped the reading of stdin, 66 and 74 for files.
int run(const Options& options, const core::Logger& log);

} // namespace iots::train
