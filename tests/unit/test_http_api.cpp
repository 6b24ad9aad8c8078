// Every API route of iots-serve against a real SQLite file and a real server on a loopback port:
// answers, parameter errors, limits, the OpenAPI document, headers, the live stream.
#define BOOST_TEST_MODULE http_api
#include "http_fixture.hpp"

#include "iotshield/http/assets.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <set>

using nlohmann::json;

namespace {

struct Home {
    std::string dir = fixture::temp_dir();
    std::string db = dir + "/home.db";
    std::int64_t now = iots::core::now_millis();
    Home() {
        iots::store::Commands writer(db); // creates the schema
        fixture::fill(writer.database(), now);
    }
    ~Home() { std::filesystem::remove_all(dir); }
    iots::http::ServerOptions options() const {
        iots::http::ServerOptions o;
        o.db_path = db;
        return o;
    }
};

struct Served : Home {
    fixture::Running run{options()};
    httplib::Client cli = run.client();
};

} // namespace

BOOST_FIXTURE_TEST_CASE(summary_has_the_documented_fields_from_kept_counters, Served) {
    auto r = cli.Get("/api/stats/summary/");
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 200);
    BOOST_TEST(r->get_header_value("Content-Type") == "application/json");
    const auto j = json::parse(r->body);
    BOOST_TEST(j["total_devices"] == 2);
    BOOST_TEST(j["active_devices"] == 1);    // living room seen now; kitchen last seen in 2025
    BOOST_TEST(j["total_readings"] == 1003); // series.count summed: 1000 + 3
    BOOST_TEST(j["total_alerts"] == 3);
    BOOST_TEST(j["open_alerts"] == 1);
    BOOST_TEST(j["recent_anomalies"] == 1);       // only the one a minute ago
    BOOST_TEST(j["system_status"] == "critical"); // an open CRITICAL alert
    BOOST_TEST(j["alerts_by_severity"]["CRITICAL"] == 1);
    BOOST_TEST(j["alerts_by_severity"]["HIGH"] == 1);
    BOOST_TEST(j["alerts_by_severity"]["LOW"] == 1);
    BOOST_TEST(j["alerts_by_severity"]["MEDIUM"] == 0);
    BOOST_TEST(j["counters"]["readings"] == 1003);
    BOOST_REQUIRE(j["sensors"].size() == 2);
    BOOST_TEST(j["sensors"][1]["sensor"] == "temperature");
    BOOST_TEST(j["sensors"][1]["readings"] == 1000);
    BOOST_TEST(j["sensors"][1]["anomalies"] == 1);
}

BOOST_FIXTURE_TEST_CASE(summary_counts_come_from_series_not_from_readings, Served) {
    // The writer keeps series.count; the summary must not recount the readings table.
    {
        iots::store::Database conn(this->db);
        conn.exec("UPDATE series SET count = 5000000 WHERE id = 1");
    }
    BOOST_TEST(fixture::body(cli.Get("/api/stats/summary/"))["total_readings"] == 5000003);
}

BOOST_FIXTURE_TEST_CASE(devices_list_rooms_status_and_latest_values, Served) {
    const auto j = fixture::body(cli.Get("/api/devices/list/"));
    BOOST_REQUIRE(j["count"] == 2);
    const auto& kitchen = j["results"][0];
    BOOST_TEST(kitchen["device"] == "esp32-kitchen");
    BOOST_TEST(kitchen["online"] == false);
    BOOST_TEST(kitchen["sensors"][0]["sensor"] == "gas");
    BOOST_TEST(kitchen["sensors"][0]["last_value"] == 420.0);
    const auto& living = j["results"][1];
    BOOST_TEST(living["online"] == true);
    BOOST_TEST(living["location"] == fixture::kXss); // JSON carries it as data; the page escapes
}

BOOST_FIXTURE_TEST_CASE(recent_readings_newest_first_with_limit_capped, Served) {
    // Newest by ts: living room temperature's last reading, i = 999, at kT0 + 999 min, value
    // 999 % 50 = 49, then i = 998 (value 48).
    auto j = fixture::body(cli.Get("/api/sensors/recent/?limit=2"));
    BOOST_REQUIRE(j["count"] == 2);
    BOOST_TEST(j["results"][0]["device"] == "esp32-livingroom");
    BOOST_TEST(j["results"][0]["value"] == 49.0);
    BOOST_TEST(j["results"][0]["ts"] == "2025-10-26T06:25:40.000Z");
    BOOST_TEST(j["results"][1]["value"] == 48.0);
    j = fixture::body(cli.Get("/api/sensors/recent/?limit=999999999"));
    BOOST_TEST(j["count"] == 1000); // capped at 1000, not refused
    j = fixture::body(cli.Get("/api/sensors/recent/?device=esp32-kitchen"));
    BOOST_TEST(j["count"] == 3);
    BOOST_TEST(j["results"][0]["value"] == 420.0); // kT0 + 2 min, the kitchen's newest
    BOOST_TEST(j["results"][0]["ts"] == "2025-10-25T13:48:40.000Z");
}

BOOST_FIXTURE_TEST_CASE(bad_parameters_get_400_naming_the_parameter, Served) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"/api/sensors/recent/?limit=abc", "limit"},
        {"/api/sensors/recent/?limit=0", "limit"},
        {"/api/sensors/recent/?limit=5%27%20OR%201%3D1", "limit"},
        {"/api/sensors/recent/?device=a%20b", "device"},
        {"/api/alerts/list/?severity=SEVERE", "severity"},
        {"/api/alerts/list/?status=open", "status"},
        {"/api/alerts/list/?from=yesterday", "from"},
        {"/api/alerts/list/?from=2000&to=1000", "to"},
        {"/api/readings?sensor=temperature", "device"},
        {"/api/readings?device=esp32-livingroom", "sensor"},
        {"/api/readings?device=esp32-livingroom&sensor=temperature&points=1", "points"},
        {"/api/readings?device=esp32-livingroom&sensor=temperature&from=2025-13-01T00:00:00Z",
         "from"},
        {"/api/readings?device=x%27%3B%20DROP%20TABLE%20readings%3B--&sensor=temperature",
         "device"},
        {"/api/control/list/?limit=-1", "limit"},
    };
    for (const auto& [path, parameter] : cases) {
        auto r = cli.Get(path);
        BOOST_REQUIRE_MESSAGE(r, path);
        BOOST_TEST(r->status == 400, path);
        const auto j = json::parse(r->body);
        BOOST_TEST(j["parameter"] == parameter, path);
        BOOST_TEST(j["error"].get<std::string>().starts_with(parameter + ": "), path);
    }
    // Nothing reached SQL as text: the table is still there.
    BOOST_TEST(fixture::body(cli.Get("/api/stats/summary/"))["total_readings"] == 1003);
}

BOOST_FIXTURE_TEST_CASE(alerts_filter_by_severity_status_device_and_time, Served) {
    auto j = fixture::body(cli.Get("/api/alerts/list/"));
    BOOST_REQUIRE(j["count"] == 3);
    BOOST_TEST(j["results"][0]["id"] == "a-fire"); // newest first
    BOOST_TEST(j["results"][0]["title"] == fixture::kXss);
    BOOST_TEST(j["results"][0]["source"] == "gemini");
    BOOST_TEST(j["results"][0]["rules"]["title"] == "Fire in the living room");
    BOOST_TEST(j["results"][1]["rules"].is_null());
    BOOST_TEST(fixture::body(cli.Get("/api/alerts/list/?severity=critical"))["count"] == 1);
    BOOST_TEST(fixture::body(cli.Get(
                   "/api/alerts/list/?status=acknowledged"))["results"][0]["id"] == "a-gas");
    BOOST_TEST(fixture::body(cli.Get("/api/alerts/list/?device=esp32-kitchen"))["count"] == 2);
    BOOST_TEST(fixture::body(cli.Get("/api/alerts/list/?from=2025-10-25T13:47:00Z"))["count"] == 2);
    BOOST_TEST(fixture::body(cli.Get("/api/alerts/list/?to=1761400060001"))["count"] == 2);
    BOOST_TEST(fixture::body(cli.Get("/api/alerts/list/?limit=1"))["count"] == 1);
}

BOOST_FIXTURE_TEST_CASE(acknowledge_and_resolve_change_the_status, Served) {
    auto r = cli.Post("/api/alerts/a-fire/ack", "", "application/json");
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 200);
    BOOST_TEST(json::parse(r->body)["status"] == "acknowledged");
    BOOST_TEST(fixture::body(cli.Get("/api/alerts/list/?status=new"))["count"] == 0);
    r = cli.Post("/api/alerts/a-fire/resolve", "", "application/json");
    BOOST_TEST(json::parse(r->body)["status"] == "resolved");
    r = cli.Post("/api/alerts/a-fire/ack", "", "application/json");
    BOOST_TEST(r->status == 409);
    r = cli.Post("/api/alerts/no-such/ack", "", "application/json");
    BOOST_TEST(r->status == 404);
    BOOST_TEST(json::parse(r->body)["parameter"] == "id");
}

BOOST_FIXTURE_TEST_CASE(readings_are_downsampled_keeping_minimum_and_maximum, Served) {
    const auto from = std::to_string(fixture::kT0);
    const auto to = std::to_string(fixture::kT0 + 1000 * 60000);
    auto j = fixture::body(
        cli.Get("/api/readings?device=esp32-livingroom&sensor=temperature&from=" + from +
                "&to=" + to + "&points=100"));
    BOOST_TEST(j["count"] == 1000);
    BOOST_TEST(j["downsampled"] == true);
    BOOST_TEST(j["points"].size() <= 100U);
    double lo = 1e9, hi = -1e9;
    std::int64_t prev = 0;
    for (const auto& p : j["points"]) {
        lo = std::min(lo, p[1].get<double>());
        hi = std::max(hi, p[1].get<double>());
        BOOST_TEST(p[0].get<std::int64_t>() >= prev); // time order
        prev = p[0].get<std::int64_t>();
    }
    BOOST_TEST(lo == 0.0);   // the dips survive
    BOOST_TEST(hi == 999.0); // and so does the spike
    BOOST_REQUIRE(j["anomalies"].size() == 1);
    BOOST_TEST(j["anomalies"][0]["ts_ms"] == fixture::kT0 + 500 * 60000);
    // A range smaller than the points asked for comes back raw.
    j = fixture::body(cli.Get("/api/readings?device=esp32-livingroom&sensor=temperature&from=" +
                              from + "&to=" + std::to_string(fixture::kT0 + 10 * 60000)));
    BOOST_TEST(j["count"] == 10);
    BOOST_TEST(j["downsampled"] == false);
    BOOST_TEST(j["points"].size() == 10U);
    BOOST_TEST(j["points"][3][1] == 3.0);
    // RFC 3339 bounds work the same.
    j = fixture::body(cli.Get("/api/readings?device=esp32-livingroom&sensor=temperature"
                              "&from=2025-10-25T13:46:40Z&to=2025-10-25T13:56:40Z"));
    BOOST_TEST(j["count"] == 10);
    auto r = cli.Get("/api/readings?device=esp32-livingroom&sensor=gas");
    BOOST_TEST(r->status == 404);
}

BOOST_FIXTURE_TEST_CASE(control_is_off_without_allow_control, Served) {
    auto r = cli.Post("/api/control/send/",
                      R"({"device":"esp32-kitchen","actuator":"fan","action":"on"})",
                      "application/json");
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 403);
    BOOST_TEST(json::parse(r->body)["error"].get<std::string>().find("--allow-control") !=
               std::string::npos);
    BOOST_TEST(fixture::body(cli.Get("/api/control/list/"))["count"] == 0);
}

BOOST_AUTO_TEST_CASE(control_validates_the_command_and_needs_a_broker) {
    Home home;
    auto o = home.options();
    o.allow_control = true;
    fixture::Running run(o); // no publisher: no broker configured
    auto cli = run.client();
    const std::vector<std::pair<std::string, std::string>> cases{
        {"not json", "body"},
        {"[1,2]", "body"},
        {R"({"actuator":"fan","action":"on"})", "device"},
        {R"({"device":"a/b","actuator":"fan","action":"on"})", "device"},
        {R"({"device":"esp32-kitchen","actuator":"oven","action":"on"})", "actuator"},
        {R"({"device":"esp32-kitchen","actuator":"fan","action":"explode"})", "action"},
        {R"({"device":"esp32-kitchen","actuator":"fan","action":7})", "action"},
    };
    for (const auto& [b, parameter] : cases) {
        auto r = cli.Post("/api/control/send/", b, "application/json");
        BOOST_REQUIRE(r);
        BOOST_TEST(r->status == 400, b);
        BOOST_TEST(json::parse(r->body)["parameter"] == parameter, b);
    }
    auto r = cli.Post("/api/control/send/",
                      R"({"device":"esp32-kitchen","actuator":"fan","action":"on"})",
                      "application/json");
    BOOST_TEST(r->status == 503);
}

BOOST_FIXTURE_TEST_CASE(health_metrics_and_static_files, Served) {
    auto j = fixture::body(cli.Get("/api/health"));
    BOOST_TEST(j["status"] == "ok");
    BOOST_TEST(j["database"] == "ok");
    BOOST_TEST(j["mqtt"] == "off");
    BOOST_TEST(j["auth"] == "loopback");
    auto r = cli.Get("/metrics");
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 200);
    BOOST_TEST(r->get_header_value("Content-Type").starts_with("text/plain; version=0.0.4"));
    BOOST_TEST(r->body.find("iots_readings_total 1003\n") != std::string::npos);
    BOOST_TEST(r->body.find("iots_alerts{severity=\"CRITICAL\"} 1\n") != std::string::npos);
    BOOST_TEST(r->body.find("iots_serve_requests_total{route=\"/api/health\",code=\"200\"} 1\n") !=
               std::string::npos);
    r = cli.Get("/");
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 200);
    BOOST_TEST(r->get_header_value("Content-Type") == "text/html; charset=utf-8");
    BOOST_TEST(r->body.find("<script src=\"/app.js?v=") != std::string::npos);
    BOOST_TEST(r->body.find("<script>") == std::string::npos); // no inline script
    // The overview's counts are in the page itself (the fixture's 1,003 readings), escaped.
    BOOST_TEST(r->body.find(R"(id="c-readings">1,003<)") != std::string::npos);
    BOOST_TEST(r->body.find("{{") == std::string::npos);
    BOOST_TEST(r->get_header_value("Cache-Control") == "no-store");
    const auto csp = r->get_header_value("Content-Security-Policy");
    BOOST_TEST(csp.find("default-src 'self'") != std::string::npos);
    BOOST_TEST(csp.find("script-src 'self';") != std::string::npos);
    // The inlined stylesheet is allowed by its hash alone (test_http_page, serve_page.sh).
    BOOST_TEST(csp.find("style-src 'self' 'sha256-") != std::string::npos);
    BOOST_TEST(csp.find("unsafe-inline") == std::string::npos);
    BOOST_TEST(r->get_header_value("X-Content-Type-Options") == "nosniff");
    r = cli.Get("/vendor/chart.min.js");
    BOOST_TEST(r->status == 200);
    BOOST_TEST(r->body.find("Chart.js v3.9.1") != std::string::npos);
    r = cli.Get("/api/nothing");
    BOOST_TEST(r->status == 404);
    BOOST_TEST(json::parse(r->body)["error"] == "not found");
    BOOST_TEST(cli.Get("/nothing.js")->status == 404);
    BOOST_TEST(cli.Get("/api/stats/summary/")->get_header_value("Content-Security-Policy") == csp);
}

BOOST_FIXTURE_TEST_CASE(files_are_versioned_cached_and_sent_gzip_compressed_as_built, Served) {
    const auto* app = iots::http::find_asset("/app.js");
    BOOST_REQUIRE(app != nullptr);
    const std::string bytes(reinterpret_cast<const char*>(app->data), app->size);
    const std::string etag = "\"" + std::string(app->version) + "\"";
    const httplib::Headers identity{{"Accept-Encoding", "identity"}};

    // Named with its current version (as the page names it): kept for a year.
    auto r = cli.Get("/app.js?v=" + std::string(app->version), identity);
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 200);
    BOOST_TEST(r->get_header_value("Cache-Control") == "public, max-age=31536000, immutable");
    BOOST_TEST(r->get_header_value("ETag") == etag);
    BOOST_TEST(!r->has_header("Content-Encoding"));
    BOOST_TEST(r->body == bytes);
    // Without it, or with an old one: revalidated, and 304 for the copy the client has.
    for (const char* path : {"/app.js", "/app.js?v=0123456789abcdef"}) {
        r = cli.Get(path, identity);
        BOOST_TEST(r->get_header_value("Cache-Control") == "no-cache", path);
    }
    r = cli.Get("/app.js", {{"Accept-Encoding", "identity"}, {"If-None-Match", "\"x\", " + etag}});
    BOOST_TEST(r->status == 304);
    BOOST_TEST(r->body.empty());
    BOOST_TEST(
        cli.Get("/app.js", {{"Accept-Encoding", "identity"}, {"If-None-Match", "\"x\""}})->status ==
        200);

    // gzip as compressed at build time, for a client that takes it; nothing compressed per
    // request for one that lists only br (cpp-httplib's own brotli is what this avoids).
    httplib::Client raw("127.0.0.1", run.port);
    raw.set_decompress(false);
    r = raw.Get("/app.js", {{"Accept-Encoding", "gzip, deflate, br, zstd"}});
    BOOST_TEST(r->get_header_value("Content-Encoding") == "gzip");
    BOOST_TEST(r->get_header_value("Vary") == "Accept-Encoding");
    BOOST_TEST(r->get_header_value("ETag") == "\"" + std::string(app->version) + "-gz\"");
    BOOST_TEST(r->body == std::string(reinterpret_cast<const char*>(app->gzip), app->gzip_size));
    BOOST_TEST(r->body.size() < bytes.size());
    cli.set_decompress(true); // the client inflates it: the same bytes as the file
    BOOST_TEST(cli.Get("/app.js", {{"Accept-Encoding", "gzip"}})->body == bytes);
    for (const char* path : {"/app.js", "/", "/api/stats/summary/", "/api/devices/list/"}) {
        r = raw.Get(path, {{"Accept-Encoding", "br"}});
        BOOST_REQUIRE_MESSAGE(r, path);
        BOOST_TEST(r->status == 200, path);
        BOOST_TEST(!r->has_header("Content-Encoding"), path);
    }
    r = raw.Get("/api/readings?device=esp32-livingroom&sensor=temperature&from=" +
                    std::to_string(fixture::kT0) + "&to=" + std::to_string(fixture::kT0 + 60000000),
                {{"Accept-Encoding", "gzip, br"}});
    BOOST_TEST(!r->has_header("Content-Encoding"));
    BOOST_TEST(json::parse(r->body)["count"] == 1000);
}

BOOST_FIXTURE_TEST_CASE(openapi_describes_every_route_and_every_route_answers, Served) {
    const auto doc = fixture::body(cli.Get("/api/openapi.json"));
    BOOST_TEST(doc["openapi"].get<std::string>().starts_with("3."));
    std::set<std::string> described;
    for (const auto& [path, ops] : doc["paths"].items())
        for (const auto& [method, op] : ops.items()) {
            described.insert(method + " " + path);
            BOOST_TEST(op.contains("responses"), path);
        }
    std::set<std::string> served;
    for (const auto& r : iots::http::routes()) {
        std::string m = r.method;
        for (auto& c : m)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        served.insert(m + " " + r.path);
        // The route exists on the server: anything but "not found" from the router.
        std::string path = r.path;
        if (auto p = path.find("{id}"); p != std::string::npos)
            path.replace(p, 4, "a-gas");
        if (path == "/api/stream")
            continue; // an endless stream; tested below
        auto res = r.method == "GET" ? cli.Get(path) : cli.Post(path, "{}", "application/json");
        BOOST_REQUIRE_MESSAGE(res, path);
        BOOST_TEST((res->status != 404 || json::parse(res->body)["error"] != "not found"), path);
    }
    BOOST_TEST(described == served);
    BOOST_TEST(served.size() == 13U);
}

BOOST_FIXTURE_TEST_CASE(stream_pushes_a_reading_stored_after_connecting, Served) {
    std::atomic<bool> got{false};
    std::string seen;
    std::thread writer([this, &got] {
        // Store a reading once the stream is open, as iots-ingest would.
        iots::store::Database conn(this->db);
        for (int i = 0; i < 100 && !got; ++i) {
            conn.exec("INSERT INTO readings (series_id, ts, value, seq) VALUES (2, " +
                      std::to_string(now + i) + ", 777.5, " + std::to_string(1000 + i) + ")");
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });
    auto sse = run.client();
    auto r = sse.Get("/api/stream", [&](const char* data, std::size_t n) {
        seen.append(data, n);
        if (seen.find("event: reading\n") != std::string::npos &&
            seen.find("\n\n", seen.find("event: reading\n")) != std::string::npos) {
            got = true;
            return false; // enough
        }
        return true;
    });
    writer.join();
    BOOST_TEST(got.load());
    const auto at = seen.find("data: ", seen.find("event: reading\n"));
    BOOST_REQUIRE(at != std::string::npos);
    const auto line = seen.substr(at + 6, seen.find('\n', at) - at - 6);
    const auto j = json::parse(line);
    BOOST_TEST(j["device"] == "esp32-kitchen");
    BOOST_TEST(j["sensor"] == "gas");
    BOOST_TEST(j["value"] == 777.5);
}
