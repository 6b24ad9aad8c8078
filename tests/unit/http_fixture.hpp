#pragma once
// A real SQLite file with a small known home in it, and a real iots-serve Server on a free
// loopback port, for the HTTP tests. Times are fixed (kT0) except where the test needs "now".
#include "iotshield/core/log.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/http/server.hpp"
#include "iotshield/store/commands.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <unistd.h>

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

inline nlohmann::json body(const httplib::Result& r) {
    if (!r)
        throw std::runtime_error("no answer: " + httplib::to_string(r.error()));
    return nlohmann::json::parse(r->body);
}

} // namespace fixture
