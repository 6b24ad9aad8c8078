#pragma once
// The one reject policy of the tools that read readings (DESIGN §5). A rejected record is counted
// and named in one warning, `iots-x: warning: line 17: reason` or `iots-x: warning: topic a/b:
// reason`, the topic made printable (core::printable), and the reason too unless it is printable
// already (record/'s reasons quote a record's text as JSON strings). Under --strict the first
// one ends the tool, and past --max-bad-lines the one too many: exit 65, after the tool committed
// what came before it.
#include "iotshield/core/log.hpp"
#include "iotshield/core/reject_policy.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace iots::input {

// Where a record came from: a line of the input (1, 2, ...) or an MQTT topic.
struct Origin {
    std::uint64_t line = 0;
    std::string_view topic{}; // empty: a line
};

// "line 17", or "topic a/b" (printable: a topic is whatever UTF-8 a publisher chose).
[[nodiscard]] std::string where(const Origin& origin);

// Why a record longer than --max-line-bytes was rejected.
[[nodiscard]] std::string too_long_reason(std::size_t max_line_bytes);

// Not thread-safe: one thread rejects (the one that reads the input).
class Rejects {
public:
    Rejects(const core::RejectPolicy& policy, const core::Logger& log);

    // Runs before the tool leaves with exit 65: commit and pass on what came before the record.
    void before_exit(std::function<void()> f) { m_before_exit = std::move(f); }

    // Counts one rejected record and warns "WHERE: REASON". Under --strict, or when this one is
    // more than --max-bad-lines, calls before_exit() and throws Error(bad_input): under --strict
    // with "WHERE: REASON" (said once, as the error, not also as a warning), past the limit with
    // "more than N bad records (--max-bad-lines)" after the warning.
    void reject(const Origin& origin, std::string_view reason);
    // A record longer than --max-line-bytes.
    void too_long(const Origin& origin);

    [[nodiscard]] std::uint64_t count() const noexcept { return m_count; }
    [[nodiscard]] const core::RejectPolicy& policy() const noexcept { return m_policy; }

private:
    const core::RejectPolicy& m_policy;
    const core::Logger& m_log;
    std::function<void()> m_before_exit;
    std::uint64_t m_count = 0;
};

} // namespace iots::input
