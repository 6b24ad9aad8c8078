#pragma once
// The dashboard's page (web/index.html) with the overview's counts written in by the server, so
// the first paint shows them instead of placeholders. A slot in the page is written {{name}};
// every value is HTML-escaped when it is written in. No script runs inline (the CSP forbids it).
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace iots::http {

using PageSlots = std::map<std::string, std::string, std::less<>>;

// & < > " ' as character references.
[[nodiscard]] std::string html_escape(std::string_view text);

// The template with every {{name}} replaced by html_escape(slots[name]). Throws
// std::invalid_argument naming a slot that `slots` does not fill, or an unclosed "{{".
[[nodiscard]] std::string render_page(std::string_view tpl, const PageSlots& slots);

// The overview cards' texts from /api/stats/summary/'s answer, formatted as app.js formats them
// (counts with thousands separators). Without a summary (a bearer token is required to see data,
// or the database failed) every slot is the placeholder "–".
[[nodiscard]] PageSlots overview_slots(const nlohmann::json* summary);

} // namespace iots::http
