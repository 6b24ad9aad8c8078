#pragma once
// Bearer tokens for the API (DESIGN §6). A tokens file has lines "token scope", scope read or
// control (control includes read); blank lines and lines starting with '#' are skipped.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iots::http {

enum class Scope { none = 0, read = 1, control = 2 };

class Tokens {
public:
    Tokens() = default;
    // Throws Error(no_input) if unreadable, Error(permission) if its mode lets anyone but its
    // owner read or write it, Error(config) naming the line for a bad line.
    static Tokens load(const std::string& path);
    // Parses the text of a tokens file; `origin` names it in errors.
    static Tokens parse(std::string_view text, const std::string& origin);

    [[nodiscard]] bool empty() const noexcept { return m_entries.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return m_entries.size(); }
    // Scope of a presented token (constant-time comparison against every entry), none if unknown.
    [[nodiscard]] Scope scope_of(std::string_view token) const noexcept;

private:
    std::vector<std::pair<std::string, Scope>> m_entries;
};

// "Bearer abc" -> "abc"; nullopt for anything else.
[[nodiscard]] std::optional<std::string_view> bearer_token(std::string_view authorization);

// 127.0.0.0/8, ::1 and ::ffff:127.x: the only clients served when no tokens file is given.
[[nodiscard]] bool is_loopback(std::string_view address) noexcept;

} // namespace iots::http
