#include "iotshield/http/message.hpp"

namespace iots::http {

namespace {

bool same_name(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto x = a[i];
        auto y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = static_cast<char>(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

const std::string* find_field(const Fields& fields, std::string_view name, bool any_case) {
    for (const auto& [k, v] : fields)
        if (any_case ? same_name(k, name) : k == name)
            return &v;
    return nullptr;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace

bool Request::has_header(std::string_view name) const {
    return find_field(headers, name, true) != nullptr;
}

std::string Request::get_header_value(std::string_view name) const {
    const auto* v = find_field(headers, name, true);
    return v == nullptr ? std::string() : *v;
}

std::vector<std::string> Request::header_values(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : headers)
        if (same_name(k, name))
            out.push_back(v);
    return out;
}

bool Request::has_param(std::string_view name) const {
    return find_field(params, name, false) != nullptr;
}

std::string Request::get_param_value(std::string_view name) const {
    const auto* v = find_field(params, name, false);
    return v == nullptr ? std::string() : *v;
}

void Response::set_header(std::string name, std::string value) {
    for (auto& [k, v] : headers)
        if (same_name(k, name)) {
            v = std::move(value);
            return;
        }
    headers.emplace_back(std::move(name), std::move(value));
}

bool Response::has_header(std::string_view name) const {
    return find_field(headers, name, true) != nullptr;
}

std::string Response::get_header_value(std::string_view name) const {
    const auto* v = find_field(headers, name, true);
    return v == nullptr ? std::string() : *v;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size())
                return std::nullopt;
            const int hi = hex_value(text[i + 1]);
            const int lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0)
                return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

bool parse_target(std::string_view target, Request& req) {
    if (!target.starts_with('/'))
        return false;
    const auto q = target.find('?');
    auto path = percent_decode(target.substr(0, q), false);
    if (!path)
        return false;
    req.path = std::move(*path);
    req.params.clear();
    if (q == std::string_view::npos)
        return true;
    auto query = target.substr(q + 1);
    if (const auto hash = query.find('#'); hash != std::string_view::npos)
        query = query.substr(0, hash);
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (item.empty())
            continue;
        const auto eq = item.find('=');
        auto key = percent_decode(item.substr(0, eq), true);
        auto value = percent_decode(
            eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1), true);
        if (!key || !value)
            return false;
        req.params.emplace_back(std::move(*key), std::move(*value));
    }
    return true;
}

} // namespace iots::http
