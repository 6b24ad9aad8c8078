#include "iotshield/http/page.hpp"

#include <array>
#include <stdexcept>

namespace iots::http {

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string render_page(std::string_view tpl, const PageSlots& slots) {
    std::string out;
    out.reserve(tpl.size() + 256);
    for (;;) {
        const auto open = tpl.find("{{");
        out.append(tpl.substr(0, open));
        if (open == std::string_view::npos)
            return out;
        const auto close = tpl.find("}}", open + 2);
        if (close == std::string_view::npos)
            throw std::invalid_argument("page template: unclosed {{");
        const auto name = tpl.substr(open + 2, close - open - 2);
        const auto it = slots.find(name);
        if (it == slots.end())
            throw std::invalid_argument("page template: no value for {{" + std::string(name) +
                                        "}}");
        out += html_escape(it->second);
        tpl.remove_prefix(close + 2);
    }
}

namespace {

// 1234567 -> "1,234,567" (app.js: Number.toLocaleString() in the browser's locale, en-US here).
std::string grouped(std::int64_t v) {
    std::string digits = std::to_string(v < 0 ? -v : v);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return v < 0 ? "-" + out : out;
}

std::int64_t count(const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

} // namespace

PageSlots overview_slots(const nlohmann::json* summary) {
    static constexpr std::array kSlots{"devices", "active",    "readings", "alerts",
                                       "open",    "anomalies", "status"};
    PageSlots s;
    if (summary == nullptr || !summary->is_object()) {
        for (const char* k : kSlots)
            s[k] = "–";
        return s;
    }
    const auto& j = *summary;
    s["devices"] = grouped(count(j, "total_devices"));
    s["active"] = grouped(count(j, "active_devices")) + " active";
    s["readings"] = grouped(count(j, "total_readings"));
    s["alerts"] = grouped(count(j, "total_alerts"));
    s["anomalies"] = grouped(count(j, "recent_anomalies"));
    std::string open;
    if (const auto it = j.find("open_alerts_by_severity"); it != j.end() && it->is_object())
        for (const char* sev : {"CRITICAL", "HIGH", "MEDIUM", "LOW"}) {
            const auto n = count(*it, sev);
            if (n > 0)
                open += (open.empty() ? "" : ", ") + grouped(n) + " " + sev;
        }
    s["open"] = open.empty() ? "none open" : open + " open";
    const auto st = j.find("system_status");
    s["status"] = "status: " + (st != j.end() && st->is_string() ? st->get<std::string>() : "–");
    return s;
}

} // namespace iots::http
