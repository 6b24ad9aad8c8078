// iots-serve against hostile clients, over raw sockets on a real server and a real SQLite file: a
// page of another site posting to the API (CSRF), a page whose name now points at 127.0.0.1 (DNS
// rebinding), a request hidden in a refused request's body (smuggling), more live streams than
// there are workers, and text meant to forge lines in the log.
#define BOOST_TEST_MODULE http_guard
#include "http_fixture.hpp"

#include "iotshield/core/printable.hpp"
#include "iotshield/http/guard.hpp"
#include "iotshield/store/queries.hpp"

#include <boost/test/unit_test.hpp>

#include <memory>
#include <vector>

using nlohmann::json;

namespace {

struct Home {
    std::string dir = fixture::temp_dir();
    std::string db = dir + "/home.db";
    Home() {
        iots::store::Commands writer(db);
        fixture::fill(writer.database(), iots::core::now_millis());
    }
    ~Home() { std::filesystem::remove_all(dir); }
    [[nodiscard]] iots::http::ServerOptions options() const {
        iots::http::ServerOptions o;
        o.db_path = db;
        return o;
    }
    // What a refused request must not have changed.
    [[nodiscard]] std::string alert_status(const std::string& id) const {
        iots::store::Queries q(db);
        const auto a = q.alert(id);
        return a ? a->status : "missing";
    }
    [[nodiscard]] std::size_t commands() const {
        iots::store::Queries q(db);
        return q.commands(200).size();
    }
};

// One request, answered and closed: the status (0: no answer).
int ask(int port, const std::string& request) {
    fixture::Raw raw(port);
    raw.send(request);
    return fixture::status_of(raw.head());
}

std::string get(const std::string& path, const std::string& host) {
    return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
}

std::string post(const std::string& path, const std::string& host, const std::string& headers,
                 const std::string& body) {
    return "POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n" + headers +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Every route of the server as a request path, {id} an alert that exists.
std::vector<std::pair<std::string, std::string>> every_route() {
    std::vector<std::pair<std::string, std::string>> v;
    for (const auto& r : iots::http::routes()) {
        std::string path = r.path;
        if (auto p = path.find("{id}"); p != std::string::npos)
            path.replace(p, 4, "a-fire");
        v.emplace_back(r.method, path);
    }
    for (const char* file : {"/", "/index.html", "/app.js", "/style.css", "/favicon.svg",
                             "/vendor/chart.min.js", "/nothing.js"})
        v.emplace_back("GET", file);
    return v;
}

const std::string kCommand = R"({"device":"esp32-kitchen","actuator":"fan","action":"on"})";

} // namespace

BOOST_AUTO_TEST_CASE(a_foreign_host_name_is_refused_on_every_route) {
    Home home;
    auto o = home.options();
    o.allow_control = true;
    fixture::Running run(o);
    const auto port = std::to_string(run.port);
    for (const auto& [method, path] : every_route()) {
        for (const auto& host :
             std::vector<std::string>{"evil.example:" + port, "evil.example",
                                      "localhost.evil.example:" + port, "127.0.0.1.nip.io"}) {
            const auto req = method == "GET"
                                 ? get(path, host)
                                 : post(path, host, "Content-Type: application/json\r\n", "{}");
            fixture::Raw raw(run.port);
            raw.send(req);
            const auto head = raw.head();
            BOOST_TEST(fixture::status_of(head) == 421, method << " " << path << " Host " << host);
            BOOST_TEST(head.find("Content-Type: application/json") != std::string::npos, path);
        }
    }
    BOOST_TEST(home.alert_status("a-fire") == "new");
    // No Host at all (HTTP/1.1 requires one): 400.
    BOOST_TEST(ask(run.port, "GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n") == 400);
    BOOST_TEST(ask(run.port, "GET /api/health HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n") ==
               400);
    // The names and addresses of this machine's loopback, any port, any case.
    for (const auto& host : std::vector<std::string>{"127.0.0.1:" + port, "127.0.0.1",
                                                     "localhost:" + port, "LocalHost:" + port,
                                                     "[::1]:" + port, "[::1]", "127.0.0.2:" + port})
        BOOST_TEST(ask(run.port, get("/api/health", host)) == 200, host);
}

BOOST_AUTO_TEST_CASE(allowed_host_names_are_added_by_option) {
    Home home;
    auto o = home.options();
    o.allowed_hosts = {"dashboard.home", "Pi.Local"};
    fixture::Running run(o);
    BOOST_TEST(ask(run.port, get("/api/health", "dashboard.home:8080")) == 200);
    BOOST_TEST(ask(run.port, get("/api/health", "pi.local")) == 200);
    BOOST_TEST(ask(run.port, get("/api/health", "dashboard.home.evil.example")) == 421);
    BOOST_TEST(ask(run.port, get("/api/health", "home")) == 421);
    BOOST_TEST(ask(run.port, get("/api/health", "localhost")) == 200);
}

BOOST_AUTO_TEST_CASE(a_page_of_another_site_cannot_post) {
    Home home;
    auto o = home.options();
    o.allow_control = true; // no broker: a command that passes every check is answered 503
    fixture::Running run(o);
    const auto self = "127.0.0.1:" + std::to_string(run.port);
    const std::vector<std::string> hostile{
        // What a form or fetch of any page sends without asking (no preflight).
        "Origin: http://evil.example\r\nContent-Type: text/plain\r\n",
        "Origin: http://evil.example\r\nContent-Type: application/x-www-form-urlencoded\r\n",
        "Origin: http://evil.example\r\nContent-Type: application/json\r\n",
        "Origin: null\r\nContent-Type: application/json\r\n",
        // Same site, other port: another program on this machine.
        "Origin: http://127.0.0.1:1\r\nContent-Type: application/json\r\n",
        "Origin: https://" + self + ".evil.example\r\nContent-Type: application/json\r\n",
        "Sec-Fetch-Site: cross-site\r\nContent-Type: application/json\r\n",
        "Sec-Fetch-Site: same-site\r\nContent-Type: application/json\r\n",
        "Origin: http://" + self +
            "\r\nSec-Fetch-Site: cross-site\r\nContent-Type: application/json\r\n",
    };
    int posts = 0;
    for (const auto& [method, path] : every_route()) {
        if (method != "POST")
            continue;
        ++posts;
        for (const auto& headers : hostile) {
            fixture::Raw raw(run.port);
            raw.send(post(path, self, headers, kCommand));
            const auto head = raw.head();
            BOOST_TEST(fixture::status_of(head) == 403, path << " with " << headers);
        }
        // Without an Origin (curl, a script) the body must still be declared JSON.
        BOOST_TEST(ask(run.port, post(path, self, "Content-Type: text/plain\r\n", kCommand)) == 415,
                   path);
        BOOST_TEST(ask(run.port, post(path, self, "", kCommand)) == 415, path);
    }
    BOOST_TEST(posts == 3);
    BOOST_TEST(home.alert_status("a-fire") == "new");
    BOOST_TEST(home.alert_status("a-gas") == "acknowledged");
    BOOST_TEST(home.commands() == 0U);

    // The dashboard itself: same origin, JSON (what app.js sends), also through a proxy on https.
    BOOST_TEST(ask(run.port, post("/api/alerts/a-fire/ack", self,
                                  "Origin: http://" + self +
                                      "\r\nSec-Fetch-Site: same-origin\r\n"
                                      "Content-Type: application/json; charset=utf-8\r\n",
                                  "")) == 200);
    BOOST_TEST(home.alert_status("a-fire") == "acknowledged");
    BOOST_TEST(
        ask(run.port, post("/api/alerts/a-gas/resolve", "localhost:" + std::to_string(run.port),
                           "Origin: http://localhost:" + std::to_string(run.port) +
                               "\r\nContent-Type: application/json\r\n",
                           "")) == 200);
    BOOST_TEST(home.alert_status("a-gas") == "resolved");
    BOOST_TEST(
        ask(run.port, post("/api/control/send/", self,
                           "Origin: http://" + self + "\r\nContent-Type: application/json\r\n",
                           kCommand)) == 503);
    // The OpenAPI document says so.
    auto cli = run.client();
    const auto doc = fixture::body(cli.Get("/api/openapi.json"));
    const auto& send = doc["paths"]["/api/control/send/"]["post"]["responses"];
    BOOST_TEST(send.contains("415"));
    BOOST_TEST(send.contains("421"));
    BOOST_TEST(doc["paths"]["/api/stream"]["get"]["responses"].contains("503"));
    // A script: no Origin, JSON.
    BOOST_TEST(ask(run.port, post("/api/alerts/a-old/ack", self,
                                  "Content-Type: application/json\r\n", "")) == 409);
}

BOOST_AUTO_TEST_CASE(a_refused_request_with_a_body_ends_its_connection) {
    Home home; // control off: POST /api/control/send/ is refused before its body is read
    fixture::Running run(home.options());
    const auto self = "127.0.0.1:" + std::to_string(run.port);
    // What a reusing proxy would pass on: a request inside the refused one's body.
    const std::string smuggled = "POST /api/alerts/a-fire/ack HTTP/1.1\r\nHost: " + self +
                                 "\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n";
    const auto outer = [&](const std::string& head_lines) {
        return head_lines + "Host: " + self + "\r\nContent-Type: application/json\r\n" +
               "Content-Length: " + std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled;
    };
    const std::vector<std::pair<std::string, int>> cases{
        {outer("POST /api/control/send/ HTTP/1.1\r\n"), 403},
        {outer("GET /api/health HTTP/1.1\r\n"), 400},        // a GET has no body
        {outer("GET /api/devices/list/ HTTP/1.1\r\n"), 400}, // on any route
        {outer("POST /api/control/send/ HTTP/1.1\r\nOrigin: http://evil.example\r\n"), 403},
        {"POST /api/control/send/ HTTP/1.1\r\nHost: " + self +
             "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
             fmt::format("{:x}\r\n{}\r\n0\r\n\r\n", smuggled.size(), smuggled),
         403},
        // A head that is not understood: what follows it is not read as a request either.
        {"BREW /pot HTTP/1.1\r\nHost: " + self + "\r\n\r\n" + smuggled, 400},
        // Framing two parsers could read differently.
        {"POST /api/alerts/a-gas/ack HTTP/1.1\r\nHost: " + self +
             "\r\nContent-Type: application/json\r\nContent-Length: 0\r\nContent-Length: " +
             std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled,
         400},
        {"POST /api/alerts/a-gas/ack HTTP/1.1\r\nHost: " + self +
             "\r\nContent-Type: application/json\r\nContent-Length: +0\r\n\r\n" + smuggled,
         400},
        {"POST /api/alerts/a-gas/ack HTTP/1.1\r\nHost: " + self +
             "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
             "Content-Length: 5\r\n\r\n0\r\n\r\n" +
             smuggled,
         400},
    };
    for (const auto& [bytes, status] : cases) {
        fixture::Raw raw(run.port);
        raw.send(bytes);
        const auto all = raw.until_closed();
        BOOST_TEST(fixture::status_of(all) == status, bytes);
        BOOST_TEST(fixture::responses_in(all) == 1, all);
        BOOST_TEST(raw.closed, bytes);
        BOOST_TEST(all.find("Connection: close\r\n") != std::string::npos, all);
    }
    BOOST_TEST(home.alert_status("a-fire") == "new");
    BOOST_TEST(home.alert_status("a-gas") == "acknowledged");

    // Requests that are served keep their connection: two in one write get two answers.
    fixture::Raw raw(run.port);
    raw.send("GET /api/health HTTP/1.1\r\nHost: " + self + "\r\n\r\n" +
             "GET /api/devices/list/ HTTP/1.1\r\nHost: " + self + "\r\nConnection: close\r\n\r\n");
    const auto all = raw.until_closed();
    BOOST_TEST(fixture::responses_in(all) == 2, all);
    BOOST_TEST(all.find("\"esp32-kitchen\"") != std::string::npos);
    BOOST_TEST(raw.closed);
}

BOOST_AUTO_TEST_CASE(more_live_streams_than_workers_leave_the_server_answering) {
    Home home;
    auto o = home.options();
    o.max_streams = 4; // with 8 workers: streams do not hold them
    fixture::Running run(o);
    const auto self = "127.0.0.1:" + std::to_string(run.port);
    std::vector<std::unique_ptr<fixture::Raw>> streams;
    int open = 0;
    int busy = 0;
    for (int i = 0; i < 12; ++i) {
        streams.push_back(std::make_unique<fixture::Raw>(run.port));
        streams.back()->send("GET /api/stream HTTP/1.1\r\nHost: " + self + "\r\n\r\n");
        const auto head = streams.back()->head();
        const int status = fixture::status_of(head);
        if (status == 200)
            ++open;
        if (status == 503) {
            ++busy;
            BOOST_TEST(head.find("Retry-After: ") != std::string::npos, head);
        }
    }
    BOOST_TEST(open == 4);
    BOOST_TEST(busy == 8);
    fixture::Raw health(run.port);
    health.send(get("/api/health", self));
    BOOST_TEST(fixture::status_of(health.head()) == 200);
    auto cli = run.client();
    const auto j = fixture::body(cli.Get("/api/health"));
    BOOST_TEST(j["stream_clients"] == 4);
    BOOST_TEST(j["stream_limit"] == 4);
    BOOST_TEST(fixture::body(cli.Get("/api/devices/list/"))["count"] == 2);
}

BOOST_AUTO_TEST_CASE(live_streams_are_capped_per_client_address_and_in_total) {
    Home home;
    auto o = home.options();
    o.max_streams = 3;
    o.max_streams_per_client = 2;
    fixture::Running run(o);
    const auto self = "127.0.0.1:" + std::to_string(run.port);
    std::vector<std::unique_ptr<fixture::Raw>> streams;
    const auto open_from = [&](const char* from) {
        streams.push_back(std::make_unique<fixture::Raw>(run.port, from));
        streams.back()->send("GET /api/stream HTTP/1.1\r\nHost: " + self + "\r\n\r\n");
        return fixture::status_of(streams.back()->head());
    };
    BOOST_TEST(open_from("127.0.0.1") == 200);
    BOOST_TEST(open_from("127.0.0.1") == 200);
    BOOST_TEST(open_from("127.0.0.1") == 503); // this client's two
    BOOST_TEST(open_from("127.0.0.2") == 200);
    BOOST_TEST(open_from("127.0.0.3") == 503); // three in all
    BOOST_TEST(ask(run.port, get("/api/health", self)) == 200);
}

BOOST_AUTO_TEST_CASE(host_names_origins_and_media_types) {
    using iots::http::host_name;
    BOOST_TEST(host_name("LocalHost:8080").value() == "localhost");
    BOOST_TEST(host_name("localhost.").value() == "localhost");
    BOOST_TEST(host_name("[::1]:80").value() == "::1");
    BOOST_TEST(!host_name(""));
    BOOST_TEST(!host_name("a b"));
    BOOST_TEST(!host_name("evil.example:"));
    BOOST_TEST(!host_name("evil.example:99999"));
    BOOST_TEST(!host_name("::1")); // a v6 address needs brackets
    BOOST_TEST(!host_name("user@evil.example"));
    const iots::http::HostAllowList hosts({"Pi.Local"}, "192.168.1.5");
    BOOST_TEST(hosts.allows("pi.local", "127.0.0.1"));
    BOOST_TEST(hosts.allows("192.168.1.5", "127.0.0.1"));    // the --listen address
    BOOST_TEST(hosts.allows("10.0.0.7", "::ffff:10.0.0.7")); // the address it came in on
    BOOST_TEST(hosts.allows("127.9.9.9", "127.0.0.1"));
    BOOST_TEST(!hosts.allows("10.0.0.8", "10.0.0.7"));
    BOOST_TEST(!hosts.allows("127.0.0.1.evil.example", "127.0.0.1"));
    BOOST_TEST(!iots::http::HostAllowList({}, "0.0.0.0").allows("0.0.0.0", "127.0.0.1"));

    using iots::http::same_origin;
    BOOST_TEST(same_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
    BOOST_TEST(same_origin("https://home.example", "home.example"));
    BOOST_TEST(same_origin("http://home.example:80", "HOME.example"));
    BOOST_TEST(!same_origin("http://home.example:8080", "home.example"));
    BOOST_TEST(!same_origin("http://evil.example", "127.0.0.1:8080"));
    BOOST_TEST(!same_origin("null", "127.0.0.1:8080"));
    BOOST_TEST(!same_origin("http://127.0.0.1:8080/", "127.0.0.1:8080"));
    BOOST_TEST(!same_origin("file://127.0.0.1:8080", "127.0.0.1:8080"));

    BOOST_TEST(iots::http::is_json_media_type("Application/JSON; charset=utf-8"));
    BOOST_TEST(!iots::http::is_json_media_type("text/plain"));
    BOOST_TEST(!iots::http::is_json_media_type("application/json-patch+json"));
    BOOST_TEST(!iots::http::is_json_media_type(""));
    BOOST_TEST(iots::http::own_fetch_site("same-origin"));
    BOOST_TEST(iots::http::own_fetch_site("none"));
    BOOST_TEST(!iots::http::own_fetch_site("same-site"));
}

BOOST_AUTO_TEST_CASE(framing_refuses_what_two_parsers_could_read_differently) {
    using iots::http::framing;
    BOOST_TEST(!framing({}, {}).has_body);
    BOOST_TEST(!framing({"0"}, {}).has_body);
    BOOST_TEST(framing({"12"}, {}).has_body);
    BOOST_TEST(framing({}, {"Chunked"}).has_body);
    BOOST_TEST(framing({}, {}).refused.empty());
    for (const auto& f : {framing({"1", "1"}, {}), framing({"+1"}, {}), framing({"0x10"}, {}),
                          framing({""}, {}), framing({"1"}, {"chunked"}),
                          framing({}, {"gzip, chunked"}), framing({}, {"chunked", "chunked"})})
        BOOST_TEST(!f.refused.empty());
}

BOOST_AUTO_TEST_CASE(logged_text_cannot_forge_a_line_or_reach_the_terminal) {
    using iots::core::printable;
    BOOST_TEST(printable("x\niots-serve: error: forged\x1b[2J") ==
               "x\\niots-serve: error: forged\\x1b[2J");
    BOOST_TEST(printable("a\r\tb\\") == "a\\r\\tb\\\\");
    BOOST_TEST(printable("del\x7f") == "del\\x7f");
    BOOST_TEST(printable("c1 \xc2\x9b"
                         "31m") == "c1 \\u009b31m"); // CSI as a C1 control
    BOOST_TEST(printable("raw \x9b"
                         "31m") == "raw \\x9b31m"); // not UTF-8
    BOOST_TEST(printable("K\xc3\xbc"
                         "che \xe2\x82\xac \xf0\x9f\x94\xa5") ==
               "K\xc3\xbc"
               "che \xe2\x82\xac \xf0\x9f\x94\xa5");            // UTF-8 text kept
    BOOST_TEST(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80"); // a surrogate is not UTF-8
}

BOOST_AUTO_TEST_CASE(a_request_larger_than_its_limits_is_not_read_into_memory) {
    Home home;
    auto o = home.options();
    o.allow_control = true;
    fixture::Running run(o);
    const auto self = "127.0.0.1:" + std::to_string(run.port);
    // A chunked body past 64 KiB: 413 at the limit, the rest unread.
    {
        fixture::Raw raw(run.port);
        raw.send("POST /api/control/send/ HTTP/1.1\r\nHost: " + self +
                 "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        const std::string chunk =
            fmt::format("{:x}\r\n{}\r\n", 64 * 1024, std::string(64 * 1024, ' '));
        for (int i = 0; i < 64; ++i)
            raw.send(chunk);
        raw.send("0\r\n\r\n");
        const auto all = raw.until_closed();
        BOOST_TEST(fixture::status_of(all) == 413, all.substr(0, 200));
        BOOST_TEST(fixture::responses_in(all) == 1);
        BOOST_TEST(raw.closed);
    }
    // A chunked body within it is served.
    {
        fixture::Raw raw(run.port);
        raw.send("POST /api/control/send/ HTTP/1.1\r\nHost: " + self +
                 "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                 "Connection: close\r\n\r\n" +
                 fmt::format("{:x}\r\n{}\r\n0\r\n\r\n", kCommand.size(), kCommand));
        BOOST_TEST(fixture::status_of(raw.head()) == 503); // every check passed; no broker
    }
    // Nor is the number of header lines: 2,000 lines of 4 KiB (8 MiB) end the connection at the
    // head's limit.
    {
        fixture::Raw raw(run.port);
        std::string req = "GET /api/health HTTP/1.1\r\nHost: " + self + "\r\n";
        for (int i = 0; i < 2000; ++i)
            req += fmt::format("X-Filler-{}: {}\r\n", i, std::string(4096, 'b'));
        raw.send(req + "\r\n");
        const auto all = raw.until_closed();
        BOOST_TEST(fixture::status_of(all) == 431, all.substr(0, 200));
        BOOST_TEST(fixture::responses_in(all) == 1);
        BOOST_TEST(raw.closed);
    }
    BOOST_TEST(ask(run.port, get("/api/health", self)) == 200);
}
