#pragma once
// iots-serve's HTTP server: the embedded dashboard, the JSON API, the live stream (SSE), metrics
// and actuator control. Reads through a pool of read-only SQLite connections (one per worker, so
// readers never block the writers), writes commands and alert status through one serialised
// read-write connection.
#include "iotshield/core/log.hpp"
#include "iotshield/http/auth.hpp"
#include "iotshield/http/publisher.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iots::http {

struct ServerOptions {
    std::string db_path;
    std::string host = "127.0.0.1";
    int port = 8080; // 0: any free port (tests)
    std::optional<Tokens> tokens;
    bool allow_control = false;
    int threads = 4; // workers that run the handlers (the sockets are all served by one thread)
    // Host names answered besides loopback's and the listen address (DNS rebinding).
    std::vector<std::string> allowed_hosts;
    int max_streams = 64;           // open live streams in all
    int max_streams_per_client = 4; // open live streams from one client address
    int max_connections = 512;      // open connections in all; more are closed unanswered
    int max_connections_per_client = 64;
    int head_timeout_ms = 10000; // a request head not complete this long after the connection
                                 // opened or its previous answer: the connection is closed
    int poll_ms = 250;           // how often the live stream looks for new rows
    std::string topic_prefix = "iotshield";
    std::int64_t command_timeout_ms = 10000; // a command unanswered this long becomes "timeout"
    std::int64_t active_window_ms = 5 * 60 * 1000;  // a device with a reading this recent is active
    std::int64_t recent_window_ms = 60 * 60 * 1000; // "recent anomalies"
};

// One entry per route, the table the server registers and the OpenAPI document describes.
struct RouteInfo {
    std::string method; // GET | POST
    std::string path;   // OpenAPI form: /api/alerts/{id}/ack
    std::string summary;
};
[[nodiscard]] const std::vector<RouteInfo>& routes();
// The OpenAPI 3 document served at /api/openapi.json.
[[nodiscard]] std::string openapi_document();

class Server {
public:
    // Opens the database (creating it if missing) and prepares the routes; no socket yet.
    Server(ServerOptions options, const core::Logger& log, Publisher* publisher = nullptr);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds the listening socket; returns the port. Throws Error(unavailable) if it cannot.
    int bind();
    // Serves until stop(); returns when the listener is closed.
    void run();
    // Thread-safe, also from a signal-watching thread.
    void stop();

    // An answer from <prefix>/control/<device>/ack (called on the MQTT thread).
    void handle_ack(std::string_view topic, std::string_view payload);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace iots::http
