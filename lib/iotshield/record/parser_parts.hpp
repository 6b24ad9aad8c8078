#pragma once
// The parts of the reading parser (parser.cpp) that have files of their own, for record/ only:
// the strict JSON check of members passed through unchanged (json_check.cpp), and the fast path
// for the plain shape the tools write (fast_path.cpp).
#include "iotshield/core/time.hpp"
#include "iotshield/record/reading.hpp"

#include <array>
#include <cstddef>
#include <string_view>

namespace iots::record {

// The longest free text (a location) a reading may carry.
inline constexpr std::size_t kMaxTextField = 128;

inline bool is_json_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// NaN, Infinity, with an optional sign: a number JSON cannot hold, said so rather than "not valid
// JSON".
[[nodiscard]] bool looks_non_finite(std::string_view token) noexcept;
// RFC 8259 number grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
[[nodiscard]] bool json_number_grammar(std::string_view t) noexcept;
// True when a number with valid grammar is too large for a double (1e400).
[[nodiscard]] bool number_overflows(std::string_view t) noexcept;
// Strict RFC 8259 check of one JSON value (UTF-8 already checked): empty when valid, else
// "not valid JSON" or "not a finite number".
[[nodiscard]] std::string_view json_value_problem(std::string_view text);

namespace fast {
// The RFC 3339 text the fast path converted last: a device sends its sensors' readings with one
// timestamp, so most lines repeat the previous line's.
struct TsCache {
    std::array<char, 40> text{};
    std::size_t size = 0;
    core::Millis value = 0;
    bool canonical = false; // text is what append_json writes for value
};

// The fast path: the plain shape the tools write (no whitespace, no escapes, printable ASCII, only
// the members of a reading, in any order), read in one pass without simdjson. It gives up (false,
// `out` half filled) as soon as a line is anything else, valid or not, and the full parser then
// decides: it may only accept lines the full parser accepts, with the same Reading
// (test_record_fast_path compares the two on many variants).
// canonical (when given): set to whether the line is, byte for byte, the JSON append_json writes
// for `out` (members in its order, ts as it formats it, the value's shortest digits), so that it
// can be passed on as it came.
[[nodiscard]] bool parse(std::string_view line, Reading& out, TsCache& cache,
                         bool* canonical = nullptr);
} // namespace fast

} // namespace iots::record
