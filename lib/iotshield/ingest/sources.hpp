#pragma once
// The two inputs of iots-ingest. Both return at the end of input or on SIGINT/SIGTERM, after
// committing everything received.
#include "iotshield/adapt/adapter.hpp"
#include "iotshield/ingest/pipeline.hpp"

namespace iots::ingest {

// NDJSON lines from options.input_fd.
void run_stdin(const Options& options, Pipeline& pipeline);
// Messages from the broker: readings on <prefix>/sensors/..., device status on <prefix>/status/.
void run_mqtt(const Options& options, Pipeline& pipeline, const core::Logger& log);

// A message or line of another format, read by adapt/, into the pipeline: its readings, its
// problems (each a rejected record), a device status, or an ignored message. A retained message
// whose readings carry no time of their own (ESPHome's states) is ignored: it is the last state of
// a moment nobody knows, and the time of receipt would make it a new reading at every restart.
// Returns false for an IoTShield record (adapt::Kind::native), which the caller reads itself.
bool feed(Pipeline& pipeline, const adapt::Result& result, const Origin& origin, core::Millis now,
          core::Millis wall, bool retained);

} // namespace iots::ingest
