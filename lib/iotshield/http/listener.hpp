#pragma once
// iots-serve's network side. One thread runs every socket asynchronously (Boost.Asio); each
// request's head and body are read by Boost.Beast's parser under fixed limits on every framing;
// the handlers, which query SQLite, run on a small pool of workers, so the socket thread never
// waits for them; a live stream is a connection the one socket thread writes the hub's events to,
// so an open stream costs a socket and a buffer, not a thread.
#include "iotshield/http/events.hpp"
#include "iotshield/http/message.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace iots::http {

struct ListenerLimits {
    std::size_t head_bytes = 16 * 1024; // request line and headers; 431 beyond
    std::size_t body_bytes = 64 * 1024; // the body, with a length or chunked; 413 beyond
    // A request's head must be complete this long after the connection opened or its previous
    // answer was written (slow or idle clients), its body this long after the head.
    int head_timeout_ms = 10000;
    int body_timeout_ms = 10000;
    int write_timeout_ms = 30000;     // an answer or stream write the client does not take: closed
    int stream_keep_alive_ms = 15000; // a silent live stream gets a comment this often
    int max_connections = 512;        // open at once, in all
    int max_connections_per_client = 64; // open at once from one client address
    int workers = 4;                     // threads that run the handlers
};

class Listener {
public:
    struct Hooks {
        // A request's head has been read: the answer that refuses it (the connection ends after
        // it, its body unread), or nullopt to read the body and handle it. Socket thread.
        std::function<std::optional<Response>(const Request&)> screen;
        // A request that passed, body read: its answer. On a worker.
        std::function<Response(Request&)> handle;
        // The answer to a request that cannot be read (status 400, 413, 431), then closed.
        std::function<Response(int status, const std::string& message)> error;
        // Sent with every answer that does not set them itself.
        Fields default_headers;
    };

    Listener(ListenerLimits limits, Hooks hooks, EventHub& hub);
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    // Binds and listens; returns the port. Throws Error(unavailable) if it cannot.
    int bind(const std::string& host, int port);
    // Serves on the calling thread until stop(); closes every connection before returning.
    void run();
    // Thread-safe; returns at once, run() returns promptly whatever the clients are doing.
    void stop();

private:
    friend class Connection; // listener.cpp
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace iots::http
