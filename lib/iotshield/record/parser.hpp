#pragma once
// Parses and validates one NDJSON line into a Reading with a precise one-line reason on failure,
// e.g. `value: not a finite number` or `missing field "ts"`. Reuse one parser per stream: it keeps
// its buffers, so the steady state allocates only for strings that grow.
#include "iotshield/record/reading.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace iots::record {

struct ParseOptions {
    bool check_ranges = true;  // reject values outside the kind's range (DESIGN §2 table)
    bool accept_legacy = true; // the seed's {"device_id","sensor_type",...,"timestamp"}
    // A reading without ts is accepted with ts = kMissingTs (iots-ingest stamps it on receipt);
    // off, it is `missing field "ts"`.
    bool allow_missing_ts = false;
    // Read the plain shape the tools write without simdjson first (same results; off only to
    // test it against the full parser).
    bool fast_path = true;
};

class Parser {
public:
    explicit Parser(ParseOptions options = {});
    ~Parser();
    Parser(const Parser&) = delete;
    Parser& operator=(const Parser&) = delete;
    Parser(Parser&&) noexcept;
    Parser& operator=(Parser&&) noexcept;

    // True and fills out; or false with error() set. `out` is cleared first.
    bool parse(std::string_view line, Reading& out);
    [[nodiscard]] const std::string& error() const noexcept { return m_error; }
    // Lines the fast path accepted (the rest went through simdjson).
    [[nodiscard]] std::uint64_t fast_lines() const noexcept { return m_fast_lines; }
    // The line last parsed is, byte for byte, what append_json writes for its reading (the
    // fast path's shape, members in that order, canonical ts and number): it can be passed on as
    // it came, without writing it again.
    [[nodiscard]] bool canonical() const noexcept { return m_canonical; }

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    ParseOptions m_options;
    std::string m_error;
    std::uint64_t m_fast_lines = 0;
    bool m_canonical = false;
};

// Validates a reading built in code (as the parser would), returning the reason or empty when
// valid.
[[nodiscard]] std::string validate(const Reading& r, const ParseOptions& options = {});

} // namespace iots::record
