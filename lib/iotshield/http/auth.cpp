#include "iotshield/http/auth.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/secret_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace iots::http {

namespace {
bool token_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~' || c == '+' || c == '/' || c == '=';
}

// Compares all of both strings whatever they hold, so timing says nothing about a prefix.
bool same(std::string_view a, std::string_view b) noexcept {
    unsigned diff = a.size() == b.size() ? 0U : 1U;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned>(static_cast<unsigned char>(a[i]) ^
                                      static_cast<unsigned char>(b.empty() ? 0 : b[i % b.size()]));
    return diff == 0;
}
} // namespace

Tokens Tokens::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(Exit::no_input,
                    "cannot read tokens file '" + path + "': " + std::strerror(errno));
    // Tokens are passwords: a file others may read (or replace) is refused, as ssh refuses a key.
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && core::open_to_others(st.st_mode, path)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777U));
        throw Error(Exit::permission, "tokens file '" + path + "' is open to others (mode " + mode +
                                          "): chmod 600 '" + path + "'");
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str(), path);
}

Tokens Tokens::parse(std::string_view text, const std::string& origin) {
    Tokens t;
    std::size_t line_no = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line_no;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        const auto first = line.find_first_not_of(" \t");
        if (first == std::string_view::npos || line[first] == '#')
            continue;
        line = line.substr(first);
        const auto sp = line.find_first_of(" \t");
        const auto bad = [&](const std::string& why) {
            return Error(Exit::config, "tokens file '" + origin + "': line " +
                                           std::to_string(line_no) + ": " + why);
        };
        if (sp == std::string_view::npos)
            throw bad("expected 'token scope'");
        const auto token = line.substr(0, sp);
        auto rest = line.substr(sp);
        rest.remove_prefix(std::min(rest.size(), rest.find_first_not_of(" \t")));
        while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t'))
            rest.remove_suffix(1);
        if (token.size() < 16)
            throw bad("token shorter than 16 characters");
        for (const char c : token)
            if (!token_char(c))
                throw bad("token has a character outside A-Z a-z 0-9 - _ . ~ + / =");
        Scope scope = Scope::none;
        if (rest == "read")
            scope = Scope::read;
        else if (rest == "control")
            scope = Scope::control;
        else
            throw bad("scope must be 'read' or 'control'");
        t.m_entries.emplace_back(std::string(token), scope);
    }
    if (t.m_entries.empty())
        throw Error(Exit::config, "tokens file '" + origin + "' has no tokens");
    return t;
}

Scope Tokens::scope_of(std::string_view token) const noexcept {
    Scope found = Scope::none;
    for (const auto& [t, s] : m_entries)
        if (same(t, token) && s > found)
            found = s;
    return found;
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
    constexpr std::string_view kPrefix = "Bearer ";
    if (authorization.size() <= kPrefix.size())
        return std::nullopt;
    for (std::size_t i = 0; i < kPrefix.size(); ++i) {
        const char a = authorization[i];
        const char b = kPrefix[i];
        if (a != b && !(a >= 'a' && a <= 'z' && a - 'a' + 'A' == b) &&
            !(a >= 'A' && a <= 'Z' && a - 'A' + 'a' == b))
            return std::nullopt;
    }
    auto token = authorization.substr(kPrefix.size());
    while (!token.empty() && token.front() == ' ')
        token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ')
        token.remove_suffix(1);
    if (token.empty())
        return std::nullopt;
    return token;
}

bool is_loopback(std::string_view a) noexcept {
    if (a == "::1")
        return true;
    if (a.starts_with("::ffff:"))
        a.remove_prefix(7);
    return a.starts_with("127.");
}

} // namespace iots::http
