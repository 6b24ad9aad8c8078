#include "iotshield/input/rejects.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/printable.hpp"

#include <fmt/format.h>

namespace iots::input {

std::string where(const Origin& origin) {
    if (origin.topic.empty())
        return fmt::format("line {}", origin.line);
    return "topic " + core::printable(origin.topic);
}

namespace {

// record/ quotes the text of a record in its reasons itself, as JSON strings (`label: unknown
// incident kind "a\"b"`): such a reason is said as it is, its backslashes not doubled. A reason
// with anything else unprintable in it (a raw control character, bytes that are not UTF-8) is
// escaped here, so a warning is always one line.
std::string said_reason(std::string_view reason) {
    std::string escaped = core::printable(reason);
    std::string doubled;
    doubled.reserve(escaped.size());
    for (const char c : reason) {
        doubled += c;
        if (c == '\\')
            doubled += c;
    }
    return escaped == doubled ? std::string(reason) : escaped;
}

} // namespace

std::string too_long_reason(std::size_t max_line_bytes) {
    return fmt::format("longer than {} bytes (--max-line-bytes)", max_line_bytes);
}

Rejects::Rejects(const core::RejectPolicy& policy, const core::Logger& log)
    : m_policy(policy), m_log(log) {}

void Rejects::reject(const Origin& origin, std::string_view reason) {
    ++m_count;
    const std::string said = where(origin) + ": " + said_reason(reason);
    if (m_policy.strict) {
        if (m_before_exit)
            m_before_exit();
        throw Error(Exit::bad_input, said);
    }
    m_log.warn("{}", said);
    if (m_policy.max_bad_lines && m_count > *m_policy.max_bad_lines) {
        if (m_before_exit)
            m_before_exit();
        throw Error(Exit::bad_input, fmt::format("more than {} bad records (--max-bad-lines)",
                                                 *m_policy.max_bad_lines));
    }
}

void Rejects::too_long(const Origin& origin) {
    reject(origin, too_long_reason(m_policy.max_line_bytes));
}

} // namespace iots::input
