#pragma once
// Compact JSON for a reading, keys in a fixed order (ts, device, sensor, value, unit, seq,
// location, label, score, anomaly, reasons, then passed-through members). Numbers print shortest
// round-trip.
#include "iotshield/record/reading.hpp"

#include <string>
#include <string_view>

namespace iots::record {

// Appends the JSON object (no newline) to out.
void append_json(const Reading& r, std::string& out);
[[nodiscard]] std::string to_json(const Reading& r);

// JSON string escaping (quotes included), valid UTF-8 assumed.
void append_json_string(std::string_view s, std::string& out);
// Shortest representation that parses back to the same double.
void append_number(double v, std::string& out);

} // namespace iots::record
