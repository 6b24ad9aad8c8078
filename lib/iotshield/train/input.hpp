#pragma once
// The one place of iots-train that reads stdin, and its rule for a line it cannot use: warned
// ("line 17: reason"), counted and skipped, never fatal. To be replaced by a shared input driver
// and reject policy (issue 16); the rest of the service sees only the readings.
#include "iotshield/core/log.hpp"
#include "iotshield/record/reading.hpp"

#include <cstdint>
#include <functional>

namespace iots::train {

// Every valid reading of stdin to `each` (the Reading is reused between calls), until its end;
// returns the number of lines rejected. Throws Error(failure) once SIGINT/SIGTERM asked to stop:
// a model of part of the history is no model to write.
std::uint64_t read_stdin(const core::Logger& log,
                         const std::function<void(const record::Reading&)>& each);

} // namespace iots::train
