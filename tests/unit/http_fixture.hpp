#pragma once
// A real SQLite file with a small known home in it, and a real iots-serve Server on a free
// loopback port, for the HTTP tests. Times are fixed (kT0) except where the test needs "now".
#include "iotshield/core/log.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/http/server.hpp"
#include "iotshield/store/commands.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace fixture {

constexpr std::int64_t kT0 = 1761400000000; // 2025-10-25T13:46:40Z
constexpr const char* kXss = "<img src=x onerror=alert(1)>";

inline std::string temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "iots-http-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
        throw std::runtime_error("mkdtemp failed");
    return tmpl;
}

// Two devices; living room temperature has 1,000 readings one minute apart from kT0 (value i % 50,
// with one spike of 999 at i = 500, marked anomalous); kitchen gas has 3. Three alerts.
inline void fill(iots::store::Database& db, std::int64_t now) {
    db.exec("BEGIN");
    auto dev = db.prepare("INSERT INTO devices (id, name, location, first_seen, last_seen, status, "
                          "status_ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    dev.bind(1, std::int64_t{1})
        .bind(2, std::string_view("esp32-livingroom"))
        .bind(3, std::string_view(kXss))
        .bind(4, kT0)
        .bind(5, now)
        .bind(6, std::string_view("online"))
        .bind(7, now);
    dev.run();
    dev.bind(1, std::int64_t{2})
        .bind(2, std::string_view("esp32-kitchen"))
        .bind(3, std::string_view("kitchen"))
        .bind(4, kT0)
        .bind(5, kT0 + 120000)
        .bind_null(6)
        .bind_null(7);
    dev.run();
    db.exec(
        "INSERT INTO sensors (id, name, unit) VALUES (1, 'temperature', 'C'), (2, 'gas', 'ppm')");
    const std::int64_t last = kT0 + 999 * 60000;
    auto se = db.prepare("INSERT INTO series (id, device_id, sensor_id, first_ts, last_ts, "
                         "last_value, count, anomalies) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    se.bind(1, std::int64_t{1})
        .bind(2, std::int64_t{1})
        .bind(3, std::int64_t{1})
        .bind(4, kT0)
        .bind(5, last)
        .bind(6, 49.0)
        .bind(7, std::int64_t{1000})
        .bind(8, std::int64_t{1});
    se.run();
    se.bind(1, std::int64_t{2})
        .bind(2, std::int64_t{2})
        .bind(3, std::int64_t{2})
        .bind(4, kT0)
        .bind(5, kT0 + 120000)
        .bind(6, 420.0)
        .bind(7, std::int64_t{3})
        .bind(8, std::int64_t{0});
    se.run();
    auto rd = db.prepare("INSERT INTO readings (series_id, ts, value, seq, anomaly) "
                         "VALUES (?1, ?2, ?3, ?4, ?5)");
    for (std::int64_t i = 0; i < 1000; ++i) {
        const double v = i == 500 ? 999.0 : static_cast<double>(i % 50);
        rd.bind(1, std::int64_t{1})
            .bind(2, kT0 + i * 60000)
            .bind(3, v)
            .bind(4, i)
            .bind(5, std::int64_t{i == 500 ? 1 : 0});
        rd.run();
    }
    for (std::int64_t i = 0; i < 3; ++i) {
        rd.bind(1, std::int64_t{2})
            .bind(2, kT0 + i * 60000)
            .bind(3, 400.0 + 10.0 * static_cast<double>(i))
            .bind(4, i)
            .bind(5, std::int64_t{0});
        rd.run();
    }
    db.exec("INSERT INTO anomalies (series_id, ts, value, score, reasons) VALUES (1, " +
            std::to_string(kT0 + 500 * 60000) + ", 999, 0.97, '[\"threshold:temperature\"]')");
    // A recent anomaly, for "anomalies in the last hour".
    db.exec("INSERT INTO anomalies (series_id, ts, value, score, reasons) VALUES (2, " +
            std::to_string(now - 60000) + ", 9000, 0.99, '[\"threshold:gas\"]')");
    auto al = db.prepare(
        "INSERT INTO alerts (id, ts, device, sensor, severity, title, description, suggestion, "
        "rules_title, rules_description, rules_suggestion, value, score, source, status) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
    al.bind(1, std::string_view("a-fire"))
        .bind(2, kT0 + 500 * 60000)
        .bind(3, std::string_view("esp32-livingroom"))
        .bind(4, std::string_view("temperature"))
        .bind(5, std::string_view("CRITICAL"))
        .bind(6, std::string_view(kXss))
        .bind(7, std::string_view("The model says: fire."))
        .bind(8, std::string_view("Leave now."))
        .bind(9, std::string_view("Fire in the living room"))
        .bind(10, std::string_view("Temperature 999 C, normal 18-26 C."))
        .bind(11, std::string_view("Get out and call 112."))
        .bind(12, 999.0)
        .bind(13, 0.97)
        .bind(14, std::string_view("gemini"))
        .bind(15, std::string_view("new"));
    al.run();
    al.bind(1, std::string_view("a-gas"))
        .bind(2, kT0 + 60000)
        .bind(3, std::string_view("esp32-kitchen"))
        .bind(4, std::string_view("gas"))
        .bind(5, std::string_view("HIGH"))
        .bind(6, std::string_view("Gas rising"))
        .bind(7, std::string_view("Gas 410 ppm."))
        .bind(8, std::string_view("Open a window."))
        .bind_null(9)
        .bind_null(10)
        .bind_null(11)
        .bind(12, 410.0)
        .bind(13, 0.8)
        .bind(14, std::string_view("rules"))
        .bind(15, std::string_view("acknowledged"));
    al.run();
    al.bind(1, std::string_view("a-old"))
        .bind(2, kT0)
        .bind(3, std::string_view("esp32-kitchen"))
        .bind(4, std::string_view("gas"))
        .bind(5, std::string_view("LOW"))
        .bind(6, std::string_view("Gas a little high"))
        .bind(7, std::string_view("d"))
        .bind(8, std::string_view("s"))
        .bind_null(9)
        .bind_null(10)
        .bind_null(11)
        .bind(12, 300.0)
        .bind(13, 0.5)
        .bind(14, std::string_view("rules"))
        .bind(15, std::string_view("resolved"));
    al.run();
    db.exec("INSERT INTO stats (key, value) VALUES ('readings', 1003)");
    db.exec("COMMIT");
}

// A server in a thread, stopped and joined on destruction.
class Running {
public:
    Running(iots::http::ServerOptions o, iots::http::Publisher* publisher = nullptr)
        : m_log("iots-serve-test", iots::core::Level::error) {
        o.host = "127.0.0.1";
        o.port = 0;
        o.threads = 8;
        o.poll_ms = 50;
        m_server = std::make_unique<iots::http::Server>(std::move(o), m_log, publisher);
        port = m_server->bind();
        m_thread = std::thread([this] { m_server->run(); });
    }
    ~Running() {
        m_server->stop();
        m_thread.join();
    }
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;

    [[nodiscard]] httplib::Client client() const {
        httplib::Client c("127.0.0.1", port);
        c.set_read_timeout(10, 0);
        return c;
    }
    iots::http::Server& server() { return *m_server; }
    int port = 0;

private:
    iots::core::Logger m_log;
    std::unique_ptr<iots::http::Server> m_server;
    std::thread m_thread;
};

// A raw TCP connection to the server, for what httplib::Client will not send (a foreign Host, a
// body on a GET, a second request inside a first one's body) and to see every byte that comes
// back. `from` is the source address: any of 127.0.0.0/8 is a different loopback client.
class Raw {
public:
    explicit Raw(int port, const char* from = "127.0.0.1") {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (m_fd < 0)
            throw std::runtime_error("socket() failed");
        timeval tv{};
        tv.tv_sec = 8; // only reached when the server never answers: the test then fails
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in src{};
        src.sin_family = AF_INET;
        ::inet_pton(AF_INET, from, &src.sin_addr);
        if (::bind(m_fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0)
            throw std::runtime_error(std::string("cannot bind ") + from);
        sockaddr_in dst{};
        dst.sin_family = AF_INET;
        dst.sin_port = htons(static_cast<std::uint16_t>(port));
        ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
        if (::connect(m_fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0)
            throw std::runtime_error("cannot connect");
    }
    ~Raw() { ::close(m_fd); }
    Raw(const Raw&) = delete;
    Raw& operator=(const Raw&) = delete;

    // False once the server has closed: what it answered is still to be read.
    bool send(std::string_view bytes) {
        while (!bytes.empty()) {
            const auto n = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    // The next response's status line and headers ("" if the connection ended first or nothing
    // came in 8 s); what follows stays for the next call.
    std::string head() {
        for (;;) {
            if (const auto end = m_buf.find("\r\n\r\n"); end != std::string::npos) {
                auto h = m_buf.substr(0, end + 4);
                m_buf.erase(0, end + 4);
                return h;
            }
            if (!fill())
                return {};
        }
    }
    // Everything until the server closes the connection; `closed` says whether it did (false:
    // still open after 8 s of silence).
    std::string until_closed() {
        while (fill()) {
        }
        return std::exchange(m_buf, {});
    }
    // Reads until what came holds `needle` (true), the connection ends or 8 s pass in silence.
    bool until(std::string_view needle) {
        while (m_buf.find(needle) == std::string::npos)
            if (!fill())
                return false;
        return true;
    }
    bool closed = false;

private:
    bool fill() {
        char chunk[4096];
        const auto n = ::recv(m_fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            closed = n == 0 || errno == ECONNRESET;
            return false;
        }
        m_buf.append(chunk, static_cast<std::size_t>(n));
        return true;
    }
    int m_fd = -1;
    std::string m_buf;
};

// "HTTP/1.1 421 Misdirected Request\r\n..." -> 421; 0 for no answer.
inline int status_of(std::string_view head) {
    if (!head.starts_with("HTTP/1.") || head.size() < 12)
        return 0;
    return std::stoi(std::string(head.substr(9, 3)));
}

// How many responses a byte stream holds (status lines; a body may end without a newline).
inline int responses_in(std::string_view bytes) {
    int n = 0;
    for (std::size_t at = 0; (at = bytes.find("HTTP/1.1 ", at)) != std::string_view::npos; ++at)
        ++n;
    return n;
}

inline nlohmann::json body(const httplib::Result& r) {
    if (!r)
        throw std::runtime_error("no answer: " + httplib::to_string(r.error()));
    return nlohmann::json::parse(r->body);
}

} // namespace fixture
