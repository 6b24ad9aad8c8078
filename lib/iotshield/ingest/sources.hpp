#pragma once
// The two inputs of iots-ingest. Both return at the end of input or on SIGINT/SIGTERM, after
// committing everything received.
#include "iotshield/ingest/pipeline.hpp"

namespace iots::ingest {

// NDJSON lines from options.input_fd.
void run_stdin(const Options& options, Pipeline& pipeline);
// Messages from the broker: readings on <prefix>/sensors/..., device status on <prefix>/status/.
void run_mqtt(const Options& options, Pipeline& pipeline, const core::Logger& log);

} // namespace iots::ingest
