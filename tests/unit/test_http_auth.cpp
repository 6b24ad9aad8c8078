// Access control of iots-serve: the tokens file, bearer tokens and scopes on a real server, and
// the loopback-only rule without tokens.
#define BOOST_TEST_MODULE http_auth
#include "http_fixture.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/http/auth.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>

using iots::http::Scope;
using iots::http::Tokens;
using nlohmann::json;

namespace {
constexpr const char* kRead = "read-token-0123456789abcdef";
constexpr const char* kControl = "control-token-0123456789abcdef";

int config_error(const std::string& text, const std::string& expect) {
    try {
        (void)Tokens::parse(text, "t.txt");
    } catch (const iots::Error& e) {
        BOOST_TEST(std::string(e.what()).find(expect) != std::string::npos, e.what());
        return static_cast<int>(e.code());
    }
    return 0;
}
} // namespace

BOOST_AUTO_TEST_CASE(tokens_file_lines_comments_and_scopes) {
    const auto t = Tokens::parse(std::string("# who: scope\n\n") + kRead + " read\r\n  " +
                                     kControl + "\tcontrol  \n",
                                 "t.txt");
    BOOST_TEST(t.size() == 2U);
    BOOST_TEST((t.scope_of(kRead) == Scope::read));
    BOOST_TEST((t.scope_of(kControl) == Scope::control));
    BOOST_TEST((t.scope_of("read-token-0123456789abcdeX") == Scope::none));
    BOOST_TEST((t.scope_of("read-token") == Scope::none));
    BOOST_TEST((t.scope_of("") == Scope::none));
}

BOOST_AUTO_TEST_CASE(tokens_file_errors_name_the_line) {
    BOOST_TEST(config_error("abcdefghijklmnopq\n", "line 1: expected 'token scope'") == 78);
    BOOST_TEST(config_error("# x\nabcdefghijklmnopq admin\n", "line 2: scope must be") == 78);
    BOOST_TEST(config_error("short read\n", "line 1: token shorter than 16") == 78);
    BOOST_TEST(config_error("abcdefghij\"klmnopq read\n", "character outside") == 78);
    BOOST_TEST(config_error("# nothing\n", "has no tokens") == 78);
    BOOST_CHECK_EXCEPTION((void)Tokens::load("/nonexistent/tokens"), iots::Error,
                          [](const iots::Error& e) { return e.code() == iots::Exit::no_input; });
}

BOOST_AUTO_TEST_CASE(a_tokens_file_others_may_read_is_refused) {
    const auto dir = fixture::temp_dir();
    const auto path = dir + "/tokens";
    std::ofstream(path) << kControl << " control\n";
    for (const auto mode : {0644, 0640, 0604, 0620, 0602}) {
        std::filesystem::permissions(path, static_cast<std::filesystem::perms>(mode));
        BOOST_CHECK_EXCEPTION((void)Tokens::load(path), iots::Error, [&](const iots::Error& e) {
            BOOST_TEST(std::string(e.what()).find("chmod 600") != std::string::npos, e.what());
            return e.code() == iots::Exit::permission;
        });
    }
    for (const auto mode : {0600, 0400}) {
        std::filesystem::permissions(path, static_cast<std::filesystem::perms>(mode));
        BOOST_TEST((Tokens::load(path).scope_of(kControl) == Scope::control));
    }
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(bearer_header_and_loopback_addresses) {
    BOOST_TEST(iots::http::bearer_token("Bearer abc").value() == "abc");
    BOOST_TEST(iots::http::bearer_token("bearer  abc ").value() == "abc");
    BOOST_TEST(!iots::http::bearer_token("Basic abc"));
    BOOST_TEST(!iots::http::bearer_token("Bearer "));
    BOOST_TEST(iots::http::is_loopback("127.0.0.1"));
    BOOST_TEST(iots::http::is_loopback("127.1.2.3"));
    BOOST_TEST(iots::http::is_loopback("::1"));
    BOOST_TEST(iots::http::is_loopback("::ffff:127.0.0.1"));
    BOOST_TEST(!iots::http::is_loopback("192.168.1.20"));
    BOOST_TEST(!iots::http::is_loopback("::ffff:10.0.0.1"));
    BOOST_TEST(!iots::http::is_loopback("1270.0.0.1"));
}

namespace {
struct WithTokens {
    std::string dir = fixture::temp_dir();
    std::string db = dir + "/home.db";
    std::unique_ptr<fixture::Running> run;
    WithTokens() {
        {
            iots::store::Commands writer(db);
            fixture::fill(writer.database(), iots::core::now_millis());
        }
        iots::http::ServerOptions o;
        o.db_path = db;
        o.tokens = Tokens::parse(std::string(kRead) + " read\n" + kControl + " control\n", "t");
        run = std::make_unique<fixture::Running>(o);
    }
    ~WithTokens() {
        run.reset();
        std::filesystem::remove_all(dir);
    }
};
} // namespace

BOOST_FIXTURE_TEST_CASE(with_tokens_every_api_call_needs_one, WithTokens) {
    auto cli = run->client();
    for (const char* path : {"/api/stats/summary/", "/api/devices/list/", "/api/sensors/recent/",
                             "/api/alerts/list/", "/api/readings", "/api/control/list/",
                             "/api/health", "/api/openapi.json", "/metrics", "/api/stream"}) {
        auto r = cli.Get(path);
        BOOST_REQUIRE_MESSAGE(r, path);
        BOOST_TEST(r->status == 401, path);
        BOOST_TEST(r->get_header_value("WWW-Authenticate").starts_with("Bearer"), path);
        BOOST_TEST(json::parse(r->body)["error"] == "a bearer token is required", path);
    }
    auto r = cli.Get("/api/stats/summary/", {{"Authorization", "Bearer wrong-token-0123456789"}});
    BOOST_TEST(r->status == 401);
    BOOST_TEST(json::parse(r->body)["error"] == "unknown token");
    // The dashboard's own files hold no data and are served, so it can ask for a token: the page
    // comes without the overview's counts (1,003 readings here), placeholders in their place.
    r = cli.Get("/");
    BOOST_TEST(r->status == 200);
    BOOST_TEST(r->body.find(R"(id="c-readings">–<)") != std::string::npos);
    BOOST_TEST(r->body.find("1,003") == std::string::npos);
    BOOST_TEST(cli.Get("/app.js")->status == 200);
}

BOOST_FIXTURE_TEST_CASE(read_scope_reads_control_scope_writes, WithTokens) {
    auto cli = run->client();
    const httplib::Headers read{{"Authorization", std::string("Bearer ") + kRead}};
    const httplib::Headers control{{"Authorization", std::string("Bearer ") + kControl}};
    BOOST_TEST(cli.Get("/api/stats/summary/", read)->status == 200);
    BOOST_TEST(cli.Get("/metrics", read)->status == 200);
    BOOST_TEST(cli.Get("/api/stats/summary/", control)->status == 200); // control includes read
    auto r = cli.Post("/api/alerts/a-fire/ack", read, "", "application/json");
    BOOST_TEST(r->status == 403);
    BOOST_TEST(json::parse(r->body)["error"].get<std::string>().find("control token") !=
               std::string::npos);
    r = cli.Post("/api/control/send/", read,
                 R"({"device":"esp32-kitchen","actuator":"fan","action":"on"})",
                 "application/json");
    BOOST_TEST(r->status == 403);
    r = cli.Post("/api/alerts/a-fire/ack", control, "", "application/json");
    BOOST_TEST(r->status == 200);
    // With tokens, a control token is what allows control (no --allow-control needed); here there
    // is no broker, so the answer is 503 after the checks, not 403.
    r = cli.Post("/api/control/send/", control,
                 R"({"device":"esp32-kitchen","actuator":"fan","action":"on"})",
                 "application/json");
    BOOST_TEST(r->status == 503);
    // EventSource cannot send headers: the stream takes the token as a parameter.
    auto sse = run->client();
    std::string seen;
    sse.Get(std::string("/api/stream?token=") + kRead, [&](const char* d, std::size_t n) {
        seen.append(d, n);
        return seen.find("\n\n") == std::string::npos;
    });
    BOOST_TEST(seen.find(": connected") != std::string::npos);
    // ...but no other route does.
    BOOST_TEST(cli.Get(std::string("/api/stats/summary/?token=") + kRead)->status == 401);
}
