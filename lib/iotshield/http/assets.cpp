#include "iotshield/http/assets.hpp"

#include <algorithm>
#include <cctype>

namespace iots::http {

const Asset* find_asset(std::string_view path) noexcept {
    const auto all = assets();
    const auto it = std::lower_bound(all.begin(), all.end(), path,
                                     [](const Asset& a, std::string_view p) { return a.path < p; });
    return it != all.end() && it->path == path ? &*it : nullptr;
}

namespace {

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// "q=0", "q=0.0", "q=0.000": the coding is refused (RFC 9110 §12.4.2).
bool zero_weight(std::string_view params) noexcept {
    while (!params.empty()) {
        const auto semi = params.find(';');
        auto p = trim(params.substr(0, semi));
        params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
        if (p.size() < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
            continue;
        p.remove_prefix(2);
        return !p.empty() && p.find_first_not_of("0.") == std::string_view::npos;
    }
    return false;
}

} // namespace

bool accepts_gzip(std::string_view accept_encoding) noexcept {
    bool gzip = false, star = false, gzip_listed = false;
    while (!accept_encoding.empty()) {
        const auto comma = accept_encoding.find(',');
        const auto item = accept_encoding.substr(0, comma);
        accept_encoding = comma == std::string_view::npos ? std::string_view{}
                                                          : accept_encoding.substr(comma + 1);
        const auto semi = item.find(';');
        const auto coding = trim(item.substr(0, semi));
        const bool ok = !zero_weight(semi == std::string_view::npos ? std::string_view{}
                                                                    : item.substr(semi + 1));
        if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
            gzip_listed = true;
            gzip = ok;
        } else if (coding == "*") {
            star = ok;
        }
    }
    return gzip_listed ? gzip : star;
}

} // namespace iots::http
