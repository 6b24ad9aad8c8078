#include "iotshield/http/params.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/record/sensor.hpp"

#include <charconv>

namespace iots::http {

std::int64_t parse_int(const std::string& name, std::string_view text, std::int64_t min,
                       std::int64_t max) {
    std::int64_t v = 0;
    const auto* end = text.data() + text.size();
    const auto [p, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec == std::errc::invalid_argument || p != end)
        throw BadParam(name, "not an integer");
    if (ec == std::errc::result_out_of_range || v > max)
        return max; // limits are capped
    if (v < min)
        throw BadParam(name, "must be at least " + std::to_string(min));
    return v;
}

std::int64_t parse_time(const std::string& name, std::string_view text) {
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos &&
        text.size() <= 15) {
        std::int64_t v = 0;
        std::from_chars(text.data(), text.data() + text.size(), v);
        return v;
    }
    if (const auto ms = core::parse_rfc3339(text))
        return *ms;
    throw BadParam(name, "not a time (RFC 3339 like 2025-10-25T16:45:00Z, or epoch milliseconds)");
}

std::string parse_name(const std::string& name, std::string_view text) {
    if (!record::valid_name(text))
        throw BadParam(name, "must be 1-64 characters of A-Z a-z 0-9 _ . -");
    return std::string(text);
}

std::string parse_choice(const std::string& name, std::string_view text,
                         const std::vector<std::string_view>& allowed, bool fold_upper) {
    std::string v(text);
    if (fold_upper)
        for (auto& c : v)
            if (c >= 'a' && c <= 'z')
                c = static_cast<char>(c - 'a' + 'A');
    for (const auto a : allowed)
        if (v == a)
            return v;
    std::string list;
    for (const auto a : allowed)
        list.append(list.empty() ? "" : ", ").append(a);
    throw BadParam(name, "must be one of " + list);
}

Listen parse_listen(std::string_view text) {
    const auto bad = [&](const char* why) {
        return Error(Exit::usage, "--listen '" + std::string(text) + "': " + why);
    };
    Listen l{"127.0.0.1", 0};
    std::string_view port = text;
    if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
        auto host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.starts_with('[')) {
            if (!host.ends_with(']') || host.size() < 3)
                throw bad("unbalanced [ ] around an IPv6 address");
            host = host.substr(1, host.size() - 2);
        } else if (host.find(':') != std::string_view::npos) {
            throw bad("write an IPv6 address in brackets, like [::1]:8080");
        }
        if (host.empty())
            throw bad("empty host (use 0.0.0.0 for every interface)");
        l.host = std::string(host);
    }
    int p = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || p < 0 || p > 65535)
        throw bad("port must be a number from 0 to 65535");
    l.port = p;
    return l;
}

} // namespace iots::http
