// iots-serve under load that used to take it down (issue 11), over raw loopback sockets on a real
// server and a real SQLite file: hundreds of open live streams, slow clients that never finish a
// head, floods of headers and bodies with every framing. The server runs in this process, so its
// memory is this process's resident set.
#define BOOST_TEST_MODULE http_limits
#include "http_fixture.hpp"

#include "iotshield/store/queries.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <vector>

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
    [[nodiscard]] std::size_t commands() const {
        iots::store::Queries q(db);
        return q.commands(200).size();
    }
};

std::string get(const std::string& path, const std::string& host) {
    return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
}

int ask(int port, const std::string& request, const char* from = "127.0.0.1") {
    fixture::Raw raw(port, from);
    raw.send(request);
    return fixture::status_of(raw.head());
}

// This process's resident set in KiB (VmRSS).
long rss_kib() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with("VmRSS:"))
            return std::stol(line.substr(6));
    throw std::runtime_error("no VmRSS in /proc/self/status");
}

// Sends `head`, then `piece` until `total` bytes or until the server closes; returns the answer.
std::string flood(int port, const std::string& head, const std::string& piece, std::size_t total) {
    fixture::Raw raw(port);
    raw.send(head);
    for (std::size_t sent = 0; sent < total && raw.send(piece); sent += piece.size()) {
    }
    return raw.until_closed();
}

constexpr std::size_t kFlood = 64 * 1024 * 1024; // 64 MiB: held in memory, it would show

} // namespace

BOOST_AUTO_TEST_CASE(two_hundred_open_streams_leave_the_api_answering) {
    Home home;
    auto o = home.options();
    o.max_streams = 250;
    o.max_streams_per_client = 250;
    o.max_connections_per_client = 300;
    fixture::Running run(o); // 8 workers
    const auto self = "127.0.0.1:" + std::to_string(run.port);
    std::vector<std::unique_ptr<fixture::Raw>> streams;
    int open = 0;
    for (int i = 0; i < 200; ++i) {
        streams.push_back(std::make_unique<fixture::Raw>(run.port));
        streams.back()->send("GET /api/stream HTTP/1.1\r\nHost: " + self + "\r\n\r\n");
        open += fixture::status_of(streams.back()->head()) == 200 ? 1 : 0;
    }
    BOOST_TEST(open == 200);
    std::vector<double> ms;
    int answered = 0;
    for (int i = 0; i < 200; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        answered += ask(run.port, get("/api/health", self)) == 200 ? 1 : 0;
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
    }
    BOOST_TEST(answered == 200);
    std::sort(ms.begin(), ms.end());
    std::printf("/api/health with 200 open streams: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                ms[100], ms[197], ms.back());
    auto cli = run.client();
    BOOST_TEST(fixture::body(cli.Get("/api/health"))["stream_clients"] == 200);
    // One event reaches every stream.
    {
        iots::store::Database conn(home.db);
        conn.exec("INSERT INTO readings (series_id, ts, value, seq) VALUES (2, " +
                  std::to_string(iots::core::now_millis()) + ", 555.5, 5000)");
    }
    int got = 0;
    for (auto& s : streams)
        got += s->until("\"value\":555.5") ? 1 : 0;
    BOOST_TEST(got == 200);
    // Closed by their clients, they give their slots back.
    streams.clear();
    int clients = -1;
    for (int i = 0; i < 100 && clients != 0; ++i) {
        clients = fixture::body(cli.Get("/api/health"))["stream_clients"].get<int>();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    BOOST_TEST(clients == 0);
}

BOOST_AUTO_TEST_CASE(slow_clients_leave_the_api_answering_and_are_cut_off) {
    Home home;
    auto o = home.options();
    o.head_timeout_ms = 2000;
    auto run = std::make_unique<fixture::Running>(o); // 8 workers
    const auto self = "127.0.0.1:" + std::to_string(run->port);
    // 100 connections from four other addresses, each sending its head a byte at a time.
    std::vector<std::unique_ptr<fixture::Raw>> slow;
    for (int i = 0; i < 100; ++i) {
        const std::string from = "127.0.0." + std::to_string(2 + i % 4);
        slow.push_back(std::make_unique<fixture::Raw>(run->port, from.c_str()));
        slow.back()->send("GET / HTTP/1.1\r\nHost: " + self + "\r\nX-Slow: ");
    }
    int answered = 0;
    for (int round = 0; round < 5; ++round) {
        for (auto& s : slow)
            s->send("a");
        answered += ask(run->port, get("/api/health", self)) == 200 ? 1 : 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    BOOST_TEST(answered == 5);
    // A head not complete within the timeout ends its connection, unanswered.
    int cut = 0;
    for (auto& s : slow) {
        const auto rest = s->until_closed();
        cut += s->closed && rest.empty() ? 1 : 0;
    }
    BOOST_TEST(cut == 100);
    // Stopping (SIGTERM) with 100 slow clients open returns at once, not when they leave.
    slow.clear();
    for (int i = 0; i < 100; ++i) {
        slow.push_back(std::make_unique<fixture::Raw>(run->port, "127.0.0.2"));
        slow.back()->send("GET / HTTP/1.1\r\nHo");
    }
    BOOST_TEST(ask(run->port, get("/api/health", self)) == 200);
    auto stopped = std::async(std::launch::async, [&run] { run.reset(); });
    // A bound on a hang, not a timing: the head timeout alone would take 2 s.
    BOOST_TEST((stopped.wait_for(std::chrono::seconds(10)) == std::future_status::ready));
}

BOOST_AUTO_TEST_CASE(connections_are_capped_per_client_address) {
    Home home;
    auto o = home.options();
    o.max_connections_per_client = 10;
    fixture::Running run(o);
    const auto self = "127.0.0.1:" + std::to_string(run.port);
    std::vector<std::unique_ptr<fixture::Raw>> idle;
    for (int i = 0; i < 10; ++i)
        idle.push_back(std::make_unique<fixture::Raw>(run.port, "127.0.0.2"));
    // The 11th from that address is closed unanswered; other addresses are served.
    BOOST_TEST(ask(run.port, get("/api/health", self), "127.0.0.2") == 0);
    BOOST_TEST(ask(run.port, get("/api/health", self)) == 200);
    idle.pop_back();
    int status = 0;
    for (int i = 0; i < 50 && status != 200; ++i) { // the server sees the close soon after
        status = ask(run.port, get("/api/health", self), "127.0.0.2");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    BOOST_TEST(status == 200);
}

BOOST_AUTO_TEST_CASE(a_flood_of_headers_gets_431_with_memory_flat) {
    Home home;
    fixture::Running run(home.options());
    const auto self = "127.0.0.1:" + std::to_string(run.port);
    BOOST_TEST(ask(run.port, get("/api/health", self)) == 200);
    const long before = rss_kib();
    std::string lines;
    while (lines.size() < 64 * 1024)
        lines += "X-Filler: " + std::string(8000, 'b') + "\r\n";
    const auto all = flood(run.port, "GET / HTTP/1.1\r\nHost: " + self + "\r\n", lines, kFlood);
    const long grown = rss_kib() - before;
    std::printf("headers flood: resident set grew by %ld KiB\n", grown);
    BOOST_TEST(fixture::status_of(all) == 431, all.substr(0, 200));
    BOOST_TEST(fixture::responses_in(all) == 1);
    BOOST_TEST(grown < 20 * 1024);
    BOOST_TEST(ask(run.port, get("/api/health", self)) == 200);
}

BOOST_AUTO_TEST_CASE(bodies_past_the_limit_get_413_with_memory_flat_on_every_framing) {
    Home home;
    auto o = home.options();
    o.allow_control = true;
    fixture::Running run(o);
    const auto self = "127.0.0.1:" + std::to_string(run.port);
    const std::string head = "POST /api/control/send/ HTTP/1.1\r\nHost: " + self +
                             "\r\nContent-Type: application/json\r\n";
    BOOST_TEST(ask(run.port, get("/api/health", self)) == 200);
    const long before = rss_kib();
    // Chunked.
    const std::string chunk = fmt::format("{:x}\r\n{}\r\n", 60000, std::string(60000, ' '));
    auto all = flood(run.port, head + "Transfer-Encoding: chunked\r\n\r\n", chunk, kFlood);
    BOOST_TEST(fixture::status_of(all) == 413, all.substr(0, 200));
    BOOST_TEST(fixture::responses_in(all) == 1);
    // A length above the limit: refused before the body is read.
    all =
        flood(run.port, head + "Content-Length: 67108864\r\n\r\n", std::string(65536, ' '), kFlood);
    BOOST_TEST(fixture::status_of(all) == 413, all.substr(0, 200));
    BOOST_TEST(fixture::responses_in(all) == 1);
    // No length at all: the request has no body (HTTP/1.1), so the bytes after its head are a
    // next request, which is malformed: 400 for the empty body, 400 for the rest, closed.
    all = flood(run.port, head + "\r\n", std::string(65536, '{'), kFlood);
    BOOST_TEST(fixture::status_of(all) == 400, all.substr(0, 200));
    BOOST_TEST(fixture::responses_in(all) <= 2);
    BOOST_TEST(all.find("Connection: close") != std::string::npos);
    const long grown = rss_kib() - before;
    std::printf("body floods: resident set grew by %ld KiB\n", grown);
    BOOST_TEST(grown < 20 * 1024);
    BOOST_TEST(home.commands() == 0U);
    BOOST_TEST(ask(run.port, get("/api/health", self)) == 200);
}

BOOST_AUTO_TEST_CASE(a_compressed_body_is_refused_not_inflated) {
    Home home;
    auto o = home.options();
    o.allow_control = true;
    fixture::Running run(o);
    const auto self = "127.0.0.1:" + std::to_string(run.port);
    // The head of a gzip member; what follows would inflate to far more than it weighs.
    std::string body = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03";
    body += std::string(60000, '\0');
    fixture::Raw raw(run.port);
    raw.send("POST /api/control/send/ HTTP/1.1\r\nHost: " + self +
             "\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body);
    const auto all = raw.until_closed();
    BOOST_TEST(fixture::status_of(all) == 415, all.substr(0, 200));
    BOOST_TEST(all.find("uncompressed") != std::string::npos);
    BOOST_TEST(home.commands() == 0U);
}

BOOST_AUTO_TEST_CASE(after_a_refusal_the_connection_ends_and_a_next_request_is_not_read) {
    Home home;
    fixture::Running run(home.options());
    const auto self = "127.0.0.1:" + std::to_string(run.port);
    const std::string next = get("/api/health", self);
    // 413 (length above the limit), 431 (head too large), 400 (not HTTP): one answer each, with
    // "Connection: close", and the request after it is never answered.
    const std::vector<std::pair<std::string, int>> cases{
        {"POST /api/alerts/a-fire/ack HTTP/1.1\r\nHost: " + self +
             "\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n",
         413},
        {"GET / HTTP/1.1\r\nHost: " + self + "\r\nX-Big: " + std::string(20000, 'x') + "\r\n\r\n",
         431},
        {"GET / HTTP/1.1\r\nHost: " + self + "\r\nBad Header\r\n\r\n", 400},
    };
    for (const auto& [bytes, status] : cases) {
        fixture::Raw raw(run.port);
        raw.send(bytes + next);
        const auto all = raw.until_closed();
        BOOST_TEST(fixture::status_of(all) == status, all.substr(0, 200));
        BOOST_TEST(fixture::responses_in(all) == 1, all.substr(0, 400));
        BOOST_TEST(all.find("Connection: close\r\n") != std::string::npos);
        BOOST_TEST(raw.closed);
    }
    // Served requests keep their connection: two in one write are answered as two.
    fixture::Raw raw(run.port);
    raw.send("GET /api/health HTTP/1.1\r\nHost: " + self + "\r\n\r\n" + next);
    const auto all = raw.until_closed();
    BOOST_TEST(fixture::responses_in(all) == 2, all);
}
