#pragma once
// The readers of each format and what they share; adapt/ only (adapter.hpp is the interface).
#include "iotshield/adapt/adapter.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace iots::adapt::detail {

// A device or sensor name from someone else's: every character outside A-Z a-z 0-9 _ . - becomes
// '_' ("Living room/sensor" -> "Living_room_sensor"), cut to 64; empty stays empty.
[[nodiscard]] std::string safe_name(std::string_view raw);
// A sensor name: safe_name, lowercase.
[[nodiscard]] std::string sensor_name(std::string_view raw);

// Adds a reading of device (safe_name already) at ts; a known kind gets its unit of DESIGN §2,
// another name the given unit. A reading the record rules refuse (out of range, a bad name) is a
// problem "what: reason" instead.
void add_reading(Result& out, std::string_view device, std::string_view sensor, double value,
                 std::string_view unit, core::Millis ts, std::string_view what);

[[nodiscard]] double fahrenheit_to_celsius(double f) noexcept;
[[nodiscard]] bool is_fahrenheit(std::string_view unit) noexcept;
// "online"/"Online"/"ONLINE" -> "online", same for offline; empty otherwise.
[[nodiscard]] std::string_view status_word(std::string_view payload) noexcept;
// The payload as a JSON object, or a problem ("not valid JSON", "not a JSON object").
[[nodiscard]] bool parse_object(std::string_view payload, nlohmann::ordered_json& into,
                                Result& out);
// "a string", "an array" ... for "expected a number, got a string".
[[nodiscard]] std::string_view json_type_name(const nlohmann::ordered_json& v) noexcept;
// Quoted and cut for a one-line message.
[[nodiscard]] std::string quote_text(std::string_view text);

// Local wall time (milliseconds since the local 1970-01-01T00:00) to UTC.
[[nodiscard]] core::Millis local_to_utc(core::Millis local, const Options& options);

void read_seed(record::Parser& parser, std::string_view payload, Result& out);
void read_zigbee2mqtt(std::string_view device, std::string_view payload, core::Millis wall,
                      Result& out);
void read_tasmota(std::string_view device, std::string_view payload, core::Millis wall,
                  const Options& options, Result& out);
void read_esphome(std::string_view device, std::string_view object, bool binary,
                  std::string_view payload, core::Millis wall, Result& out);

} // namespace iots::adapt::detail
