#pragma once
// Option groups shared by several tools, so each flag is spelled and documented once.
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/reject_policy.hpp"
#include "iotshield/core/zone.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

namespace iots::cli {

// -h/-p/-q/-i/-c/-u/--password-file/--cafile/--capath/--cert/--key/--insecure/-k/--topic-prefix/--share.
// Environment: IOTS_BROKER (host[:port]), IOTS_MQTT_USER, IOTS_MQTT_PASSWORD. --help stays --help.
// `without` ends -h's help line with what this tool does without a broker ("none: read stdin"),
// or that it needs one ("required").
void add_broker_options(CLI::App& app, core::BrokerOptions& options, const std::string& without,
                        bool with_share = false);

// After parse: fills what comes from the environment and files (password), validates combinations.
// Throws Error(usage) or Error(no_input) with a precise message.
void finish_broker_options(core::BrokerOptions& options);

// --strict, --max-bad-lines N, --max-line-bytes N: what a tool that reads readings does with a
// record it rejects (input::Rejects applies them). The same names and --help text in every tool.
void add_input_options(CLI::App& app, core::RejectPolicy& policy);

// --db FILE, with IOTS_DB as the environment fallback.
CLI::Option* add_db_option(CLI::App& app, std::string& path, const std::string& help);

// --tz ZONE, the home's IANA time zone (the value stays empty when the option is not given).
CLI::Option* add_tz_option(CLI::App& app, std::string& name, const std::string& help);
// After parse: the zone of --tz, else $TZ, else UTC. Throws Error(usage) naming --tz or TZ.
[[nodiscard]] core::Zone tz_zone(const std::string& name);

// Parses a duration option value ("5s", "14d") into milliseconds; throws Error(usage) naming the
// option.
std::int64_t duration_ms(const std::string& option, const std::string& text);
// Parses a time option value (--since, --until) given as RFC 3339 or as epoch milliseconds; throws
// Error(usage) naming the option: "--until: 'yesterday' is neither RFC 3339 nor epoch ms".
[[nodiscard]] std::int64_t parse_time(const std::string& option, const std::string& text);
// Parses a size option value into bytes: a whole number with an optional suffix k, M, G or T
// (powers of 1000, a trailing B allowed: "800MB", "1G"), from 1M to 1000T; throws Error(usage)
// naming the option.
std::int64_t size_bytes(const std::string& option, const std::string& text);
// Checks of a duration option's text, as it is read: longer than 0 ("--llm-timeout: '0s' is not
// a duration longer than 0"), or from lo_ms to hi_ms ("--poll: '5ms' is not a duration from 10ms
// to 10s"). The tool still converts it with duration_ms.
CLI::Validator positive_duration();
CLI::Validator duration_between(std::int64_t lo_ms, std::int64_t hi_ms);

// Checks of numeric option values, one message form for every tool: "--port: '0' is not a whole
// number from 1 to 65535". They add nothing to --help (the help text says what is accepted).
// Context::parse calls check_number on every numeric option.
namespace detail {
CLI::Validator signed_range(std::int64_t lo, std::int64_t hi, bool any_low, bool any_high);
CLI::Validator unsigned_range(std::uint64_t lo, std::uint64_t hi, bool any_high);
} // namespace detail
template <typename T>
CLI::Validator whole_number(T lo = std::numeric_limits<T>::min(),
                            T hi = std::numeric_limits<T>::max()) {
    static_assert(std::is_integral_v<T>);
    constexpr T kMin = std::numeric_limits<T>::min();
    constexpr T kMax = std::numeric_limits<T>::max();
    if constexpr (std::is_signed_v<T>)
        return detail::signed_range(lo, hi, lo == kMin, hi == kMax);
    else
        return detail::unsigned_range(lo, hi, hi == kMax);
}
// Every numeric option (by its type name INT, UINT or FLOAT): its value reaches CLI11 in plain
// decimal ("010" is ten, where CLI11 alone reads octal eight; "0x10" is refused), and it gets the
// plain check of its type (a word is refused in the form above, after any narrower check).
void check_number(CLI::Option& opt);
// A finite number from lo to hi.
CLI::Validator number(double lo = -std::numeric_limits<double>::max(),
                      double hi = std::numeric_limits<double>::max());
// A finite number above 0, up to hi.
CLI::Validator positive_number(double hi = std::numeric_limits<double>::max());

// The safety levels, one definition for every tool that takes one (iots-detect, iots-alert).
// Gas in ppm: above 0, up to the top of the gas sensor's range (a higher level is never reached).
CLI::Validator gas_level();
// Temperature in deg C: from 30 (a lived-in room on a hot day reaches less; a lower level would
// sound on ordinary days) up to the top of the temperature sensor's range.
CLI::Validator heat_level();

// Files named by options, checked when the options are read, before any work.
// An output file: its directory exists and can be written, and it is not a directory. Throws
// Error(usage), or Error(permission) for a directory the tool may not write.
CLI::Validator writable_file(const std::string& option);
// An existing, non-empty file that does not start as an SQLite database does is refused with
// Error(no_input): "--db notdb.db: not an SQLite database". A missing or empty file passes (the
// tool creates it, or says it is missing).
CLI::Validator sqlite_file(const std::string& option);
// The first line of a file of a secret (password, API key, database key), without its line end;
// throws Error(no_input) naming the option, the file and the reason ("cannot read: Permission
// denied"), or Error(permission) for a regular file its group or others may read or write
// ("open to others (mode 0644): chmod 600 FILE"). The secret itself is never in a message.
std::string read_first_line(const std::string& option, const std::string& path);
// A file of a secret the tool reads later, checked as the option is read: Error(no_input) as
// read_first_line's.
CLI::Validator readable_file(const std::string& option);

// Marks an option as an old spelling of another: still accepted, left out of --help, and
// Context::parse warns when it is used ("--model is deprecated: use --llm-model").
void deprecated_alias(CLI::Option* old_option, const std::string& new_name);
// The warning of a deprecated option given on the command line, else empty.
[[nodiscard]] std::string deprecation_warning(const CLI::Option& option);

} // namespace iots::cli
