#pragma once
// Query and body parameters, validated before anything reaches the store. A bad one throws
// BadParam, which the server answers with 400 and {"error": "...", "parameter": "..."}.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace iots::http {

class BadParam : public std::runtime_error {
public:
    BadParam(std::string parameter, const std::string& why)
        : std::runtime_error(parameter + ": " + why), m_parameter(std::move(parameter)) {}
    [[nodiscard]] const std::string& parameter() const noexcept { return m_parameter; }

private:
    std::string m_parameter;
};

// A decimal integer in [min, max]. Above `cap` (limits) it is capped, not refused.
[[nodiscard]] std::int64_t parse_int(const std::string& name, std::string_view text,
                                     std::int64_t min, std::int64_t max);
// RFC 3339 (any offset) or integer epoch milliseconds.
[[nodiscard]] std::int64_t parse_time(const std::string& name, std::string_view text);
// A device or sensor name (DESIGN §2 alphabet, 1-64 characters).
[[nodiscard]] std::string parse_name(const std::string& name, std::string_view text);
// One of `allowed`, compared exactly; `fold_upper` accepts lower case and returns upper case.
[[nodiscard]] std::string parse_choice(const std::string& name, std::string_view text,
                                       const std::vector<std::string_view>& allowed,
                                       bool fold_upper = false);

struct Listen {
    std::string host;
    int port = 0;
};
// --listen: "HOST:PORT", "[V6]:PORT" or a bare "PORT" (loopback). Throws Error(usage).
[[nodiscard]] Listen parse_listen(std::string_view text);

} // namespace iots::http
