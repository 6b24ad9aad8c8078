#pragma once
// The training history: the readings of --db or stdin that pass the filter, leaving out those
// labelled with an incident, grouped per series (device and sensor).
#include "iotshield/core/log.hpp"
#include "iotshield/core/reject_policy.hpp"
#include "iotshield/detect/model.hpp"
#include "iotshield/store/scores.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace iots::train {

struct History {
    std::vector<detect::History> series; // in device, then sensor order
    std::uint64_t rows = 0;              // readings kept, over all series
    std::uint64_t left_out = 0;          // labelled with an incident kind
    std::uint64_t rejected = 0;          // stdin lines rejected (input::Rejects)
};

// From the database at `db_path` (opened read-only), or stdin when it is empty: its lines through
// input::read_lines, a line that is no valid reading rejected by `policy` (warned and counted, exit
// 65 under --strict or past --max-bad-lines). Throws Error(failure) when SIGINT/SIGTERM stopped the
// reading of stdin: a model of part of the history is no model to write.
[[nodiscard]] History read_history(const std::string& db_path, const store::HistoryFilter& filter,
                                   const core::RejectPolicy& policy, const core::Logger& log);

} // namespace iots::train
