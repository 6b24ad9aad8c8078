// The dashboard's page and files as iots-serve embeds them: {{slots}} filled and escaped, the
// overview's counts formatted as app.js formats them, versioned references, Accept-Encoding.
#define BOOST_TEST_MODULE http_page
#include "iotshield/http/assets.hpp"
#include "iotshield/http/page.hpp"

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <utility>
#include <vector>

using iots::http::PageSlots;

namespace {

std::string_view text_of(const iots::http::Asset& a) {
    return {reinterpret_cast<const char*>(a.data), a.size};
}

bool is_hex(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// Every "PATH?v=VERSION" in the page (std::regex trips GCC 12's sanitizer warnings).
std::vector<std::pair<std::string, std::string>> versioned_refs(std::string_view page) {
    std::vector<std::pair<std::string, std::string>> refs;
    for (std::size_t at = page.find("?v="); at != std::string_view::npos;
         at = page.find("?v=", at + 3)) {
        const std::size_t open = page.rfind('"', at);
        const std::size_t close = page.find('"', at);
        if (open == std::string_view::npos || close == std::string_view::npos)
            continue;
        const std::string_view path = page.substr(open + 1, at - open - 1);
        const std::string_view version = page.substr(at + 3, close - at - 3);
        if (path.starts_with('/') && is_hex(version))
            refs.emplace_back(path, version);
    }
    return refs;
}

const std::string_view kPage = [] {
    const auto* a = iots::http::find_asset("/index.html");
    return a != nullptr ? text_of(*a) : std::string_view{};
}();

} // namespace

BOOST_AUTO_TEST_CASE(html_escape_turns_markup_into_text) {
    BOOST_TEST(iots::http::html_escape("<img src=x onerror=alert(1)>") ==
               "&lt;img src=x onerror=alert(1)&gt;");
    BOOST_TEST(iots::http::html_escape(R"(a & "b" 'c')") == "a &amp; &quot;b&quot; &#39;c&#39;");
    BOOST_TEST(iots::http::html_escape("–, 1,234") == "–, 1,234"); // UTF-8 passes unchanged
}

BOOST_AUTO_TEST_CASE(render_page_fills_every_slot_escaped) {
    const PageSlots slots{{"a", "<b>"}, {"n", "42"}};
    BOOST_TEST(iots::http::render_page("<p>{{a}}</p><i>{{n}}{{a}}</i>", slots) ==
               "<p>&lt;b&gt;</p><i>42&lt;b&gt;</i>");
    BOOST_TEST(iots::http::render_page("no slots { } }}", slots) == "no slots { } }}");
    BOOST_CHECK_THROW((void)iots::http::render_page("{{missing}}", slots), std::invalid_argument);
    BOOST_CHECK_THROW((void)iots::http::render_page("x {{a", slots), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(overview_slots_format_counts_like_app_js) {
    const auto summary = nlohmann::json::parse(R"({
        "total_devices": 3, "active_devices": 2, "total_readings": 10000000, "total_alerts": 1234,
        "recent_anomalies": 0, "system_status": "critical",
        "open_alerts_by_severity": {"LOW": 1, "MEDIUM": 0, "HIGH": 2, "CRITICAL": 1}})");
    const auto s = iots::http::overview_slots(&summary);
    BOOST_TEST(s.at("devices") == "3");
    BOOST_TEST(s.at("active") == "2 active");
    BOOST_TEST(s.at("readings") == "10,000,000"); // (10)(000)(000): a comma every three digits
    BOOST_TEST(s.at("alerts") == "1,234");
    BOOST_TEST(s.at("anomalies") == "0");
    BOOST_TEST(s.at("open") ==
               "1 CRITICAL, 2 HIGH, 1 LOW open"); // most severe first, zeros left out
    BOOST_TEST(s.at("status") == "status: critical");
    const auto quiet = nlohmann::json::parse(R"({"open_alerts_by_severity": {"LOW": 0}})");
    BOOST_TEST(iots::http::overview_slots(&quiet).at("open") == "none open");
}

BOOST_AUTO_TEST_CASE(without_a_summary_every_slot_is_a_placeholder) {
    for (const auto& [name, value] : iots::http::overview_slots(nullptr))
        BOOST_TEST(value == "–", name);
}

BOOST_AUTO_TEST_CASE(the_embedded_page_renders_with_and_without_data) {
    BOOST_REQUIRE(!kPage.empty());
    const auto summary =
        nlohmann::json::parse(R"({"total_readings": 1003, "system_status": "ok"})");
    const auto with = iots::http::render_page(kPage, iots::http::overview_slots(&summary));
    const auto without = iots::http::render_page(kPage, iots::http::overview_slots(nullptr));
    for (const auto* html : {&with, &without}) {
        BOOST_TEST(html->find("{{") == std::string::npos);
        BOOST_TEST(html->find("<script>") == std::string::npos); // no inline script
        BOOST_TEST(html->find("<script src=\"/app.js?v=") != std::string::npos);
    }
    BOOST_TEST(with.find(R"(id="c-readings">1,003<)") != std::string::npos);
    BOOST_TEST(without.find(R"(id="c-readings">–<)") != std::string::npos);
    BOOST_TEST(without.find("1,003") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_page_names_each_file_with_its_current_version) {
    std::set<std::string> named;
    for (const auto& [path, version] : versioned_refs(kPage)) {
        const auto* a = iots::http::find_asset(path);
        BOOST_REQUIRE_MESSAGE(a != nullptr, path);
        BOOST_TEST(version == a->version);
        named.insert(path);
    }
    BOOST_TEST(named.count("/app.js") == 1U);
    BOOST_TEST(named.count("/vendor/chart.min.js") == 1U);
    BOOST_TEST(named.count("/favicon.svg") == 1U);
    // The stylesheet is inlined and allowed by its hash, not named.
    BOOST_TEST(named.count("/style.css") == 0U);
    BOOST_TEST(kPage.find("<style>") != std::string_view::npos);
    BOOST_TEST(iots::http::style_hashes().starts_with("'sha256-"));
    BOOST_TEST(iots::http::style_hashes().size() == 53U); // 'sha256- + 44 base64 characters + '
}

BOOST_AUTO_TEST_CASE(every_file_has_a_version_and_text_files_a_smaller_gzip) {
    for (const auto& a : iots::http::assets()) {
        BOOST_TEST((a.version.size() == 16 && is_hex(a.version)), a.path);
        if (a.content_type.starts_with("text/javascript") || a.content_type.starts_with("text/css"))
            BOOST_TEST((a.gzip != nullptr && a.gzip_size < a.size), a.path);
        if (a.gzip != nullptr) // a gzip member: magic 1f 8b, deflate, no modification time
            BOOST_TEST((a.gzip[0] == 0x1f && a.gzip[1] == 0x8b && a.gzip[2] == 8 &&
                        a.gzip[4] == 0 && a.gzip[5] == 0 && a.gzip[6] == 0 && a.gzip[7] == 0),
                       a.path);
    }
    BOOST_TEST(iots::http::find_asset("/index.html")->gzip == nullptr); // rendered per request
}

BOOST_AUTO_TEST_CASE(accepts_gzip_reads_accept_encoding_with_weights) {
    using iots::http::accepts_gzip;
    BOOST_TEST(accepts_gzip("gzip, deflate, br, zstd")); // Chromium
    BOOST_TEST(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
    BOOST_TEST(accepts_gzip("*"));
    BOOST_TEST(accepts_gzip("x-gzip"));
    BOOST_TEST(!accepts_gzip(""));
    BOOST_TEST(!accepts_gzip("br"));
    BOOST_TEST(!accepts_gzip("identity"));
    BOOST_TEST(!accepts_gzip("gzip;q=0"));
    BOOST_TEST(!accepts_gzip("gzip; q=0.000, br"));
    BOOST_TEST(!accepts_gzip("*, gzip;q=0")); // named beats the wildcard
    BOOST_TEST(!accepts_gzip("*;q=0"));
    BOOST_TEST(accepts_gzip("gzip;q=0.001"));
}
