#pragma once
// --since and --until: an instant as RFC 3339 or epoch milliseconds.
#include "iotshield/core/time.hpp"

#include <string>

namespace iots::train {

// Throws Error(usage) naming `option` for text that is neither.
[[nodiscard]] core::Millis parse_time(const std::string& option, const std::string& text);

} // namespace iots::train
