#include "iotshield/http/guard.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace iots::http {

namespace {

char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowered(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = lower(c);
    return out;
}

std::string_view trimmed(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool all_digits(std::string_view s) noexcept {
    if (s.empty())
        return false;
    for (const char c : s)
        if (c < '0' || c > '9')
            return false;
    return true;
}

struct Authority {
    std::string name; // lower case, no brackets
    int port = 0;     // 0: none given
};

// "name", "name:port", "[v6]", "[v6]:port".
std::optional<Authority> authority(std::string_view s) {
    s = trimmed(s);
    Authority a;
    std::string_view port;
    if (s.starts_with('[')) {
        const auto close = s.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        const auto inner = s.substr(1, close - 1);
        if (inner.empty())
            return std::nullopt;
        for (const char c : inner)
            if (!((c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'f') || c == ':' ||
                  c == '.'))
                return std::nullopt;
        a.name = lowered(inner);
        auto rest = s.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':')
                return std::nullopt;
            port = rest.substr(1);
            if (port.empty())
                return std::nullopt;
        }
    } else {
        auto name = s;
        if (const auto colon = s.rfind(':'); colon != std::string_view::npos) {
            name = s.substr(0, colon);
            port = s.substr(colon + 1);
            if (port.empty())
                return std::nullopt;
        }
        if (!name.empty() && name.back() == '.') // "localhost." is localhost
            name.remove_suffix(1);
        if (name.empty())
            return std::nullopt;
        for (const char c : name)
            if (!((c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'z') || c == '.' ||
                  c == '-' || c == '_'))
                return std::nullopt;
        a.name = lowered(name);
    }
    if (!port.empty()) {
        if (!all_digits(port) || port.size() > 5)
            return std::nullopt;
        a.port = std::stoi(std::string(port));
        if (a.port < 1 || a.port > 65535)
            return std::nullopt;
    }
    return a;
}

// An address literal as bytes (v4-mapped v6 as v4), for comparing spellings of one address.
std::optional<std::array<unsigned char, 16>> address_bytes(std::string_view text) {
    std::string s(text);
    if (s.starts_with("::ffff:") && s.find('.') != std::string::npos)
        s.erase(0, 7);
    std::array<unsigned char, 16> b{};
    in_addr v4{};
    if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) {
        std::memcpy(b.data(), &v4, sizeof v4);
        b[15] = 4; // v4: the first 4 bytes; never a v6 address's last byte with 12 zero bytes
        return b;
    }
    in6_addr v6{};
    if (::inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
        std::memcpy(b.data(), &v6, sizeof v6);
        return b;
    }
    return std::nullopt;
}

} // namespace

std::optional<std::string> host_name(std::string_view host_header) {
    auto a = authority(host_header);
    if (!a)
        return std::nullopt;
    return std::move(a->name);
}

HostAllowList::HostAllowList(std::vector<std::string> extra, std::string_view listen_host) {
    m_names.emplace_back("localhost");
    for (auto& n : extra)
        if (auto name = host_name(n))
            m_names.push_back(std::move(*name));
    // --listen's host: "0.0.0.0", "192.168.1.5", "::1" (a v6 address comes without brackets).
    const bool v6 = listen_host.find(':') != std::string_view::npos;
    auto name = host_name(v6 ? "[" + std::string(listen_host) + "]" : std::string(listen_host));
    if (name && *name != "0.0.0.0" && *name != "::")
        m_names.push_back(std::move(*name));
}

bool HostAllowList::allows(std::string_view name, std::string_view local_address) const {
    for (const auto& n : m_names)
        if (n == name)
            return true;
    const auto bytes = address_bytes(name);
    if (!bytes)
        return false;
    if ((*bytes)[15] == 4 && (*bytes)[0] == 127)
        return true; // 127.0.0.0/8
    static constexpr std::array<unsigned char, 16> kV6Loopback{0, 0, 0, 0, 0, 0, 0, 0,
                                                               0, 0, 0, 0, 0, 0, 0, 1};
    if (*bytes == kV6Loopback)
        return true;
    const auto local = address_bytes(local_address);
    return local && *local == *bytes;
}

bool same_origin(std::string_view origin, std::string_view host_header) {
    int default_port = 0;
    if (origin.starts_with("http://")) {
        default_port = 80;
        origin.remove_prefix(7);
    } else if (origin.starts_with("https://")) {
        default_port = 443;
        origin.remove_prefix(8);
    } else {
        return false; // "null" (a sandboxed or file page), other schemes
    }
    const auto o = authority(origin);
    const auto h = authority(host_header);
    if (!o || !h || origin.find('/') != std::string_view::npos)
        return false;
    return o->name == h->name &&
           (o->port == 0 ? default_port : o->port) == (h->port == 0 ? default_port : h->port);
}

bool own_fetch_site(std::string_view sec_fetch_site) {
    const auto v = lowered(trimmed(sec_fetch_site));
    return v == "same-origin" || v == "none";
}

bool is_json_media_type(std::string_view content_type) {
    const auto semicolon = content_type.find(';');
    return lowered(trimmed(content_type.substr(0, semicolon))) == "application/json";
}

Framing framing(const std::vector<std::string>& content_lengths,
                const std::vector<std::string>& transfer_encodings) {
    Framing f;
    if (content_lengths.size() > 1) {
        f.refused = "more than one Content-Length";
        return f;
    }
    if (transfer_encodings.size() > 1) {
        f.refused = "more than one Transfer-Encoding";
        return f;
    }
    if (!content_lengths.empty() && !transfer_encodings.empty()) {
        f.refused = "both Content-Length and Transfer-Encoding";
        return f;
    }
    if (!transfer_encodings.empty()) {
        if (lowered(trimmed(transfer_encodings.front())) != "chunked") {
            f.refused = "Transfer-Encoding other than chunked";
            return f;
        }
        f.has_body = true;
        f.chunked = true;
        return f;
    }
    if (!content_lengths.empty()) {
        const auto v = trimmed(content_lengths.front());
        if (!all_digits(v) || v.size() > 18) {
            f.refused = "Content-Length is not a number";
            return f;
        }
        f.has_body = v.find_first_not_of('0') != std::string_view::npos;
    }
    return f;
}

} // namespace iots::http
