#pragma once
// The server behind server.hpp, for http/ only: Server::Impl's state, its routing, pool and
// serving of the page and files (server.cpp), and the API's handlers (handlers.cpp).
#include "iotshield/http/server.hpp"

#include "iotshield/control/service.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/core/printable.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/http/assets.hpp"
#include "iotshield/http/control.hpp"
#include "iotshield/http/events.hpp"
#include "iotshield/http/guard.hpp"
#include "iotshield/http/json.hpp"
#include "iotshield/http/listener.hpp"
#include "iotshield/http/message.hpp"
#include "iotshield/http/page.hpp"
#include "iotshield/http/params.hpp"
#include "iotshield/http/stream_slots.hpp"
#include "iotshield/record/sensor.hpp"
#include "iotshield/store/commands.hpp"
#include "iotshield/store/queries.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <regex>

namespace iots::http {

using nlohmann::json;

// The API's routes: the regex a request's path is matched against and the path the OpenAPI document
// uses.
struct RouteDef {
    const char* method;
    const char* regex;
    const char* path;
    const char* summary;
    Scope scope;
};

// Why a request is not served: answered before routing, and its connection closed after.
struct Refusal {
    int status;
    std::string message;
    bool bearer_challenge = false; // 401: WWW-Authenticate
};

void set_body(Response& res, std::string body, std::string_view content_type);
void send_json(Response& res, int status, const json& body);
void send_error(Response& res, int status, const std::string& message,
                const std::string& parameter = {});
std::optional<std::string> param(const Request& req, const char* name);

struct Server::Impl {
    using Handler = std::function<void(const Request&, Response&)>;
    struct Route {
        std::string method;
        std::regex path;
        std::function<void(Request&, Response&)> handler;
    };

    ServerOptions opt;
    const core::Logger& log;
    Publisher* publisher;
    EventHub hub;
    HostAllowList hosts;
    StreamSlots slots;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

    // Read-only connections, one per worker at most, created on demand.
    std::mutex pool_mutex;
    std::vector<std::unique_ptr<store::Queries>> pool;

    std::mutex writer_mutex;
    std::unique_ptr<store::Commands> writer;
    std::unique_ptr<control::ControlService> control;

    std::mutex metrics_mutex;
    std::map<std::pair<std::string, int>, std::uint64_t> requests;
    std::map<std::string, double> seconds;
    std::atomic<std::uint64_t> refused{0};
    std::atomic<std::uint64_t> streams_refused{0};
    std::vector<Route> table;

    // web/index.html with its {{slots}}; checked once here, so a slot without a value fails at
    // start, not on a request.
    const std::string_view page_template = [] {
        const Asset* a = find_asset("/index.html");
        if (a == nullptr)
            throw std::logic_error("web/index.html is not embedded");
        const std::string_view t(reinterpret_cast<const char*>(a->data), a->size);
        (void)render_page(t, overview_slots(nullptr));
        return t;
    }();

    // Last: destroyed first, before anything its connections and workers reach.
    std::unique_ptr<Listener> listener;

    Impl(ServerOptions o, const core::Logger& l, Publisher* p);

    // ---- the connection pool ----
    std::unique_ptr<store::Queries> acquire();
    void release(std::unique_ptr<store::Queries> q);
    template <typename F> auto with_queries(F&& f) {
        auto q = acquire();
        struct Back {
            Impl& self;
            std::unique_ptr<store::Queries>& q;
            bool ok = false;
            ~Back() {
                if (ok) // a connection that threw is dropped, not reused
                    self.release(std::move(q));
            }
        } back{*this, q};
        if constexpr (std::is_void_v<decltype(f(*q))>) {
            f(*q);
            back.ok = true;
        } else {
            auto r = f(*q);
            back.ok = true;
            return r;
        }
    }

    // ---- routing ----
    void add(const RouteDef& def, Handler h);

    void setup();

    // A request that passed the checks: its route's answer. HEAD is answered as GET (the
    // listener sends the head only).
    Response handle(Request& req);

    // Answered before routing, and the connection closed after: the body is never read.
    std::optional<Response> screen(const Request& req);

    std::unique_ptr<Listener> make_listener();

    // The page, with the overview's counts written in. It holds data, so it is not stored by
    // caches, and with --tokens it holds none: the browser has not shown a token yet.
    void page(Response& res);

    // An embedded file. The page names each one with ?v=VERSION: asked for with its current
    // version it can be kept for a year; otherwise it is revalidated (ETag, 304).
    static void file(const Request& req, Response& res, const Asset& a);

    // Why the request is refused before routing, if it is. Reads only the request's head.
    std::optional<Refusal> refusal(const Request& req) const;

    // Who may ask: loopback without tokens, a token of the right scope with them.
    std::optional<Refusal> access(const Request& req) const;

    // ---- handlers ----
    void summary(const Request&, Response& res);

    std::string summary_text();

    void devices(const Request&, Response& res);

    void recent(const Request& req, Response& res);

    void alerts(const Request& req, Response& res);

    void alert_status(const Request& req, Response& res, const std::string& status);

    void readings(const Request& req, Response& res);

    void commands(const Request& req, Response& res);

    void send_command(const Request& req, Response& res);

    void stream(const Request& req, Response& res);

    void health(const Request&, Response& res);

    void metrics(Response& res);
};

} // namespace iots::http
