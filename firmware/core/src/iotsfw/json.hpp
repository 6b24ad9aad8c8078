#pragma once
// The little JSON a node needs, without a JSON library: writing strings, numbers and RFC 3339
// times the way lib/iotshield/record writes them, and reading the members of one command object.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace iots::fw {

// A JSON string with its quotes: `"` `\` and control characters escaped as record's
// append_json_string does (\n \r \t \b \f, others \u00xx); valid UTF-8 assumed.
void append_json_string(std::string_view s, std::string& out);
// A finite value rounded to `decimals` places, trailing zeros and point dropped ("21.5", "0",
// "1250"); never "-0".
void append_fixed(double value, int decimals, std::string& out);
void append_uint(std::uint64_t value, std::string& out);
// 2025-10-25T16:45:12.123Z (UTC, milliseconds), for epoch milliseconds from 0 to year 9999.
void append_rfc3339(std::int64_t epoch_ms, std::string& out);

// The top-level members of a JSON object. Strings are decoded (escapes, \u surrogate pairs to
// UTF-8); every value also keeps its raw text. Nested values are checked and kept raw.
struct JsonMember {
    enum class Type : std::uint8_t { string, number, other };
    std::string key;
    Type type = Type::other;
    std::string text; // a string's decoded text, else the raw JSON text of the value
};
// False when `text` is not exactly one JSON object (RFC 8259; whitespace around allowed).
// Duplicate keys are all kept, in order: a reader takes the last, as nlohmann does.
bool parse_object(std::string_view text, std::vector<JsonMember>& members);

} // namespace iots::fw
