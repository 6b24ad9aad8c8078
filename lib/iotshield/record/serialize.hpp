#pragma once
// Compact JSON for a reading, keys in a fixed order (ts, device, sensor, value, unit, seq,
// location, label, score, anomaly, reasons, then passed-through members). Numbers print shortest
// round-trip.
#include "iotshield/record/reading.hpp"

#include <array>
#include <string>
#include <string_view>

namespace iots::record {

// Appends the JSON object (no newline) to out.
void append_json(const Reading& r, std::string& out);
[[nodiscard]] std::string to_json(const Reading& r);

// The same text as append_json, for a stream of readings: it writes to memory the caller sized
// (no intermediate string) and keeps the text of the last timestamp, which a device's readings
// share.
class JsonWriter {
public:
    // An upper bound of the bytes write(r, ...) writes.
    [[nodiscard]] static std::size_t max_size(const Reading& r) noexcept;
    // Writes r's JSON at out (room for max_size(r) bytes) and returns its end.
    char* write(const Reading& r, char* out) noexcept;
    void append(const Reading& r, std::string& out);

private:
    core::Millis m_ts = 0;
    bool m_have_ts = false;
    std::array<char, 24> m_ts_text{};
};

// JSON string escaping (quotes included), valid UTF-8 assumed.
void append_json_string(std::string_view s, std::string& out);
// Shortest representation that parses back to the same double.
void append_number(double v, std::string& out);
// A member after the first, for the writers of this module's records (alert, action, aggregate):
// ,"key": and ,"key":"value" (escaped as append_json_string does).
void append_key(std::string_view key, std::string& out);
void append_member(std::string_view key, std::string_view value, std::string& out);

} // namespace iots::record
