#pragma once
// iots-detect's counters: SIGUSR1's line and the summary at the end.
#include "iotshield/score/session.hpp"

namespace iots::score {

// "read 10, anomalies 1, rejected 0"
void log_counters(const Session& s);
// "read 10, scored 9, anomalies 1, rejected 1, series 4", then the stored scores (--db) and the
// failed state writes (--state) when any.
void log_summary(const Session& s);

} // namespace iots::score
