#pragma once
// cpp-httplib's server with a connection loop of iots-serve's own. cpp-httplib 0.11 answers a
// request its pre-routing handler refuses without reading the body, and never reads the body of a
// GET: those bytes were then read as the connection's next request (request smuggling behind a
// proxy that reuses connections). Here a hook sees each request's head first and may end the
// connection after the answer ("Connection: close"), so such bytes are never read as a request.
#include <httplib.h>

#include <functional>

namespace iots::http {

class GuardedServer : public httplib::Server {
public:
    // Called with each request's head before routing; true: close the connection after answering.
    std::function<bool(const httplib::Request&)> must_close;

private:
    // Replaces cpp-httplib's per-connection loop (runs on the worker the connection was given to).
    bool process_and_close_socket(socket_t sock) override;
};

} // namespace iots::http
