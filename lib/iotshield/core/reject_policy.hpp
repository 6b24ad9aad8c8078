#pragma once
// What a tool that reads readings does with a record it rejects: the same three options in every
// such tool (cli::add_input_options), applied by input::Rejects. Plain data here, beside
// BrokerOptions, so that cli/ can fill it without depending on input/.
#include <cstddef>
#include <cstdint>
#include <optional>

namespace iots::core {

struct RejectPolicy {
    bool strict = false;                        // --strict: exit 65 at the first rejected record
    std::optional<std::uint64_t> max_bad_lines; // --max-bad-lines: exit 65 when more are rejected
    std::size_t max_line_bytes = std::size_t{1} << 20; // --max-line-bytes: a longer record is
                                                       // rejected (a line or an MQTT payload)
};

} // namespace iots::core
