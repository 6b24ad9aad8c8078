#include "iotshield/http/server.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/http/assets.hpp"
#include "iotshield/http/control.hpp"
#include "iotshield/http/control_service.hpp"
#include "iotshield/http/events.hpp"
#include "iotshield/http/guard.hpp"
#include "iotshield/http/json.hpp"
#include "iotshield/http/listener.hpp"
#include "iotshield/http/message.hpp"
#include "iotshield/http/page.hpp"
#include "iotshield/http/params.hpp"
#include "iotshield/http/printable.hpp"
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

namespace {

// Self only, no inline script; inline style only the page's own stylesheet, by its hash.
std::string content_security_policy() {
    const auto hashes = style_hashes();
    return "default-src 'self'; script-src 'self'; style-src 'self'" +
           (hashes.empty() ? std::string() : " " + std::string(hashes)) +
           "; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
           "base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
}

const std::vector<std::string_view> kSeverities{"LOW", "MEDIUM", "HIGH", "CRITICAL"};
const std::vector<std::string_view> kStatuses{"new", "acknowledged", "resolved"};

// The API's routes: the regex a request's path is matched against and the path the OpenAPI document
// uses.
struct RouteDef {
    const char* method;
    const char* regex;
    const char* path;
    const char* summary;
    Scope scope;
};

const std::vector<RouteDef>& route_defs() {
    static const std::vector<RouteDef> kRoutes{
        {"GET", "/api/stats/summary/", "/api/stats/summary/",
         "Counts for the overview, kept as data arrives", Scope::read},
        {"GET", "/api/devices/list/", "/api/devices/list/",
         "Devices with room, online state and last reading per sensor", Scope::read},
        {"GET", "/api/sensors/recent/", "/api/sensors/recent/", "Latest readings, newest first",
         Scope::read},
        {"GET", "/api/alerts/list/", "/api/alerts/list/", "Alerts, newest first, filtered",
         Scope::read},
        {"POST", R"(/api/alerts/([^/]{1,128})/ack)", "/api/alerts/{id}/ack", "Acknowledge an alert",
         Scope::control},
        {"POST", R"(/api/alerts/([^/]{1,128})/resolve)", "/api/alerts/{id}/resolve",
         "Mark an alert resolved", Scope::control},
        {"GET", "/api/readings", "/api/readings",
         "One series over a time range, downsampled keeping minima and maxima", Scope::read},
        {"GET", "/api/control/list/", "/api/control/list/",
         "Commands sent and their acknowledgements", Scope::read},
        {"POST", "/api/control/send/", "/api/control/send/", "Send a command to an actuator",
         Scope::control},
        {"GET", "/api/stream", "/api/stream",
         "Server-Sent Events: new readings, anomalies, alerts, command answers", Scope::read},
        {"GET", "/api/health", "/api/health", "Liveness and database state", Scope::read},
        {"GET", "/api/openapi.json", "/api/openapi.json", "This API as OpenAPI 3", Scope::read},
        {"GET", "/metrics", "/metrics", "Prometheus metrics", Scope::read},
    };
    return kRoutes;
}

void set_body(Response& res, std::string body, std::string_view content_type) {
    res.body = std::move(body);
    res.set_header("Content-Type", std::string(content_type));
}

// Bytes that live as long as the program (the embedded files).
void set_static_body(Response& res, const unsigned char* data, std::size_t size,
                     std::string_view content_type) {
    res.fixed_body = std::string_view(reinterpret_cast<const char*>(data), size);
    res.set_header("Content-Type", std::string(content_type));
}

// If-None-Match lists `etag` (weak comparison, RFC 9110 §13.1.2) or is "*".
bool none_match(const Request& req, std::string_view etag) {
    if (!req.has_header("If-None-Match"))
        return false;
    const auto v = req.get_header_value("If-None-Match");
    std::string_view list = v;
    while (!list.empty()) {
        const auto comma = list.find(',');
        auto item = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        while (!item.empty() && item.front() == ' ')
            item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ')
            item.remove_suffix(1);
        if (item.starts_with("W/"))
            item.remove_prefix(2);
        if (item == "*" || item == etag)
            return true;
    }
    return false;
}

void send_json(Response& res, int status, const json& body) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    set_body(res, to_text(body), "application/json");
}

void send_error(Response& res, int status, const std::string& message,
                const std::string& parameter = {}) {
    json body{{"error", message}};
    if (!parameter.empty())
        body["parameter"] = parameter;
    send_json(res, status, body);
}

std::optional<std::string> param(const Request& req, const char* name) {
    if (!req.has_param(name))
        return std::nullopt;
    return req.get_param_value(name);
}

// Prometheus label values: backslash, quote and newline escaped.
std::string label(std::string_view v) {
    std::string out;
    for (const char c : v) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

// Why a request is not served: answered before routing, and its connection closed after.
struct Refusal {
    int status;
    std::string message;
    bool bearer_challenge = false; // 401: WWW-Authenticate
};

int checked_max_streams(const ServerOptions& o) {
    if (o.max_streams < 1)
        throw Error(Exit::usage, "--max-streams: must be at least 1");
    if (o.max_streams_per_client < 1)
        throw Error(Exit::usage, "--max-streams-per-client: must be at least 1");
    if (o.max_connections < 1 || o.max_connections_per_client < 1)
        throw Error(Exit::usage, "--max-connections: must be at least 1");
    return o.max_streams;
}

// Methods HTTP/1.1 defines: another is a head that is not understood (400, and the connection
// ends); one of these on a path without it is "not found".
bool known_method(std::string_view m) {
    for (const char* k :
         {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
        if (m == k)
            return true;
    return false;
}

} // namespace

const std::vector<RouteInfo>& routes() {
    static const std::vector<RouteInfo> kInfo = [] {
        std::vector<RouteInfo> v;
        for (const auto& r : route_defs())
            v.push_back({r.method, r.path, r.summary});
        return v;
    }();
    return kInfo;
}

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
    std::unique_ptr<ControlService> control;

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

    Impl(ServerOptions o, const core::Logger& l, Publisher* p)
        : opt(std::move(o)), log(l), publisher(p), hub(opt.db_path, opt.poll_ms, l),
          hosts(opt.allowed_hosts, opt.host),
          slots(checked_max_streams(opt), opt.max_streams_per_client) {
        // The writer connection creates and migrates the file if needed, so the readers can open.
        writer = std::make_unique<store::Commands>(opt.db_path);
        control = std::make_unique<ControlService>(opt.topic_prefix, publisher, *writer,
                                                   writer_mutex, hub, log);
        release(std::make_unique<store::Queries>(opt.db_path)); // fails early on a bad file
        setup();
        listener = make_listener();
    }

    // ---- the connection pool ----
    std::unique_ptr<store::Queries> acquire() {
        {
            std::lock_guard lock(pool_mutex);
            if (!pool.empty()) {
                auto q = std::move(pool.back());
                pool.pop_back();
                return q;
            }
        }
        return std::make_unique<store::Queries>(opt.db_path);
    }
    void release(std::unique_ptr<store::Queries> q) {
        std::lock_guard lock(pool_mutex);
        if (pool.size() < static_cast<std::size_t>(opt.threads))
            pool.push_back(std::move(q));
    }
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
    void add(const RouteDef& def, Handler h) {
        const std::string route = def.path;
        auto wrapped = [this, route, h = std::move(h)](Request& req, Response& res) {
            const auto t0 = std::chrono::steady_clock::now();
            try {
                h(req, res);
            } catch (const BadParam& e) {
                send_error(res, 400, e.what(), e.parameter());
            } catch (const Error& e) {
                log.warn("{} {}: {}", printable(req.method), printable(req.path),
                         printable(e.what()));
                send_error(res, e.code() == Exit::unavailable ? 503 : 500, e.what());
            } catch (const std::exception& e) {
                log.warn("{} {}: {}", printable(req.method), printable(req.path),
                         printable(e.what()));
                send_error(res, 500, "internal error");
            }
            const double s =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::lock_guard lock(metrics_mutex);
            ++requests[{route, res.status}];
            seconds[route] += s;
        };
        table.push_back({def.method, std::regex(def.regex), std::move(wrapped)});
    }

    void setup() {
        std::map<std::string, Handler> h;
        h["/api/stats/summary/"] = [this](const auto& req, auto& res) { summary(req, res); };
        h["/api/devices/list/"] = [this](const auto& req, auto& res) { devices(req, res); };
        h["/api/sensors/recent/"] = [this](const auto& req, auto& res) { recent(req, res); };
        h["/api/alerts/list/"] = [this](const auto& req, auto& res) { alerts(req, res); };
        h["/api/alerts/{id}/ack"] = [this](const auto& req, auto& res) {
            alert_status(req, res, "acknowledged");
        };
        h["/api/alerts/{id}/resolve"] = [this](const auto& req, auto& res) {
            alert_status(req, res, "resolved");
        };
        h["/api/readings"] = [this](const auto& req, auto& res) { readings(req, res); };
        h["/api/control/list/"] = [this](const auto& req, auto& res) { commands(req, res); };
        h["/api/control/send/"] = [this](const auto& req, auto& res) { send_command(req, res); };
        h["/api/stream"] = [this](const auto& req, auto& res) { stream(req, res); };
        h["/api/health"] = [this](const auto& req, auto& res) { health(req, res); };
        h["/api/openapi.json"] = [](const auto&, auto& res) {
            res.set_header("Cache-Control", "no-cache");
            set_body(res, openapi_document(), "application/json");
        };
        h["/metrics"] = [this](const auto&, auto& res) { metrics(res); };
        for (const auto& def : route_defs()) {
            auto it = h.find(def.path);
            if (it == h.end())
                throw std::logic_error(std::string("no handler for ") + def.path);
            add(def, std::move(it->second));
            h.erase(it);
        }
        if (!h.empty())
            throw std::logic_error("handler without a route: " + h.begin()->first);
    }

    // A request that passed the checks: its route's answer. HEAD is answered as GET (the
    // listener sends the head only).
    Response handle(Request& req) {
        Response res;
        const std::string method = req.method == "HEAD" ? "GET" : req.method;
        for (const auto& r : table) {
            std::smatch m;
            if (r.method != method || !std::regex_match(req.path, m, r.path))
                continue;
            req.matches.assign(m.begin(), m.end());
            r.handler(req, res);
            return res;
        }
        if (method != "GET" || req.path.starts_with("/api/")) {
            send_error(res, 404, "not found");
            return res;
        }
        if (req.path == "/" || req.path == "/index.html") {
            page(res);
            return res;
        }
        const Asset* a = find_asset(req.path);
        if (a == nullptr) {
            send_error(res, 404, "not found");
            return res;
        }
        file(req, res, *a);
        return res;
    }

    // Answered before routing, and the connection closed after: the body is never read.
    std::optional<Response> screen(const Request& req) {
        auto r = refusal(req);
        if (!r)
            return std::nullopt;
        ++refused;
        Response res;
        if (r->bearer_challenge)
            res.set_header("WWW-Authenticate", "Bearer realm=\"iotshield\"");
        send_error(res, r->status, r->message);
        return res;
    }

    std::unique_ptr<Listener> make_listener() {
        ListenerLimits lim;
        lim.workers = opt.threads;
        lim.max_connections = opt.max_connections;
        lim.max_connections_per_client = opt.max_connections_per_client;
        lim.head_timeout_ms = opt.head_timeout_ms;
        Listener::Hooks hooks;
        hooks.screen = [this](const Request& req) { return screen(req); };
        hooks.handle = [this](Request& req) { return handle(req); };
        hooks.error = [this](int status, const std::string& message) {
            ++refused;
            Response res;
            send_error(res, status, message);
            return res;
        };
        hooks.default_headers = {{"Content-Security-Policy", content_security_policy()},
                                 {"X-Content-Type-Options", "nosniff"},
                                 {"Referrer-Policy", "no-referrer"},
                                 {"X-Frame-Options", "DENY"}};
        return std::make_unique<Listener>(lim, std::move(hooks), hub);
    }

    // The page, with the overview's counts written in. It holds data, so it is not stored by
    // caches, and with --tokens it holds none: the browser has not shown a token yet.
    void page(Response& res) {
        std::optional<json> summary;
        if (!opt.tokens) {
            try {
                summary = json::parse(summary_text());
            } catch (const std::exception& e) { // the page still loads; app.js reports the error
                log.warn("GET /: {}", printable(e.what()));
            }
        }
        res.set_header("Cache-Control", "no-store");
        set_body(res, render_page(page_template, overview_slots(summary ? &*summary : nullptr)),
                 "text/html; charset=utf-8");
    }

    // An embedded file. The page names each one with ?v=VERSION: asked for with its current
    // version it can be kept for a year; otherwise it is revalidated (ETag, 304).
    static void file(const Request& req, Response& res, const Asset& a) {
        const bool gzip = a.gzip != nullptr && req.has_header("Accept-Encoding") &&
                          accepts_gzip(req.get_header_value("Accept-Encoding"));
        const std::string etag = "\"" + std::string(a.version) + (gzip ? "-gz\"" : "\"");
        const bool current = req.has_param("v") && req.get_param_value("v") == a.version;
        res.set_header("Cache-Control",
                       current ? "public, max-age=31536000, immutable" : "no-cache");
        res.set_header("ETag", etag);
        if (a.gzip != nullptr)
            res.set_header("Vary", "Accept-Encoding");
        if (none_match(req, etag)) {
            res.status = 304;
            return;
        }
        if (gzip) {
            res.set_header("Content-Encoding", "gzip");
            set_static_body(res, a.gzip, a.gzip_size, a.content_type);
        } else {
            set_static_body(res, a.data, a.size, a.content_type);
        }
    }

    // Why the request is refused before routing, if it is. Reads only the request's head.
    std::optional<Refusal> refusal(const Request& req) const {
        if (!known_method(req.method))
            return Refusal{400, "bad request: unknown method"};
        const bool post = req.method == "POST";
        // Framing first: a body two parsers could delimit differently is never served.
        const auto f =
            framing(req.header_values("Content-Length"), req.header_values("Transfer-Encoding"));
        if (!f.refused.empty())
            return Refusal{400, "bad request: " + f.refused};
        if (f.has_body && !post)
            return Refusal{400, "bad request: a " + req.method + " request has no body"};
        // The name the request was sent to (DNS rebinding).
        const auto host_values = req.header_values("Host");
        if (host_values.size() != 1)
            return Refusal{400, "bad request: one Host header is required"};
        const auto name = host_name(host_values.front());
        if (!name)
            return Refusal{400, "bad request: malformed Host header"};
        if (!hosts.allows(*name, req.local_addr))
            return Refusal{421, "this server does not answer to the name '" + *name +
                                    "'; start iots-serve with --allow-host " + *name +
                                    " if it should"};
        if (auto r = access(req))
            return r;
        if (!post)
            return std::nullopt;
        // A request that changes something comes from the dashboard itself or from no page at
        // all (curl, a script): browsers send Origin and Sec-Fetch-Site with every POST, and a
        // page of another site can send only text/plain, form or multipart bodies without a
        // preflight, which is never answered.
        if (req.has_header("Origin") &&
            !same_origin(req.get_header_value("Origin"), host_values.front()))
            return Refusal{403, "cross-origin request refused: Origin " +
                                    req.get_header_value("Origin") +
                                    " is not this dashboard's own"};
        if (req.has_header("Sec-Fetch-Site") &&
            !own_fetch_site(req.get_header_value("Sec-Fetch-Site")))
            return Refusal{403, "cross-site request refused (Sec-Fetch-Site: " +
                                    req.get_header_value("Sec-Fetch-Site") + ")"};
        if (!is_json_media_type(req.get_header_value("Content-Type")))
            return Refusal{415, "the body must be sent as Content-Type: application/json"};
        // A compressed body is never inflated (63 KiB of gzip can hold 62 MiB).
        for (const auto& coding : req.header_values("Content-Encoding"))
            if (coding != "identity")
                return Refusal{415, "the body must be sent uncompressed (no Content-Encoding)"};
        return std::nullopt;
    }

    // Who may ask: loopback without tokens, a token of the right scope with them.
    std::optional<Refusal> access(const Request& req) const {
        const bool api = req.path.starts_with("/api/") || req.path == "/metrics";
        const bool post = req.method == "POST";
        if (!opt.tokens) {
            if (!is_loopback(req.remote_addr))
                return Refusal{403, "only loopback clients are served without --tokens; start "
                                    "iots-serve with --tokens FILE to serve others"};
            if (post && req.path == "/api/control/send/" && !opt.allow_control)
                return Refusal{403, "control is off: start iots-serve with --allow-control, or "
                                    "with --tokens and a control token"};
            return std::nullopt;
        }
        if (!api)
            return std::nullopt; // the dashboard's files hold no data; it asks for a token
        std::optional<std::string_view> token;
        std::string presented; // owns what `token` views
        if (req.has_header("Authorization")) {
            presented = req.get_header_value("Authorization");
            token = bearer_token(presented);
        } else if (req.path == "/api/stream" && req.has_param("token")) {
            // EventSource cannot send headers: the stream alone takes the token as a parameter.
            presented = req.get_param_value("token");
            token = presented;
        }
        const Scope scope = token ? opt.tokens->scope_of(*token) : Scope::none;
        if (scope == Scope::none)
            return Refusal{401, token ? "unknown token" : "a bearer token is required", true};
        if (post && scope != Scope::control)
            return Refusal{403, "this token has the read scope; this call needs a control token"};
        return std::nullopt;
    }

    // ---- handlers ----
    void summary(const Request&, Response& res) {
        res.status = 200;
        res.set_header("Cache-Control", "no-store");
        set_body(res, summary_text(), "application/json");
    }

    std::string summary_text() {
        // The counts come from counters the writers keep; the JSON is also kept per connection
        // until another connection commits or the clock's second changes (the windows move).
        return with_queries([&](store::Queries& q) {
            const auto now = core::now_millis();
            const auto dv = q.data_version();
            if (q.memo.data_version != dv || q.memo.second != now / 1000) {
                q.memo.text = to_text(
                    summary_json(q.summary(now, opt.active_window_ms, opt.recent_window_ms)));
                q.memo.data_version = dv;
                q.memo.second = now / 1000;
            }
            return q.memo.text;
        });
    }

    void devices(const Request&, Response& res) {
        const auto rows = with_queries([](store::Queries& q) { return q.devices(); });
        const auto now = core::now_millis();
        json list = json::array();
        for (const auto& d : rows)
            list.push_back(device_json(d, now, opt.active_window_ms));
        send_json(res, 200, json{{"count", list.size()}, {"results", std::move(list)}});
    }

    void recent(const Request& req, Response& res) {
        const auto limit = static_cast<int>(
            param(req, "limit") ? parse_int("limit", *param(req, "limit"), 1, 1000) : 50);
        std::optional<std::string> device;
        if (auto d = param(req, "device"))
            device = parse_name("device", *d);
        const auto rows =
            with_queries([&](store::Queries& q) { return q.recent_readings(limit, device); });
        json list = json::array();
        for (const auto& r : rows)
            list.push_back(reading_json(r));
        send_json(res, 200, json{{"count", list.size()}, {"results", std::move(list)}});
    }

    void alerts(const Request& req, Response& res) {
        store::AlertFilter f;
        f.limit = static_cast<int>(
            param(req, "limit") ? parse_int("limit", *param(req, "limit"), 1, 1000) : 50);
        if (auto v = param(req, "severity"); v && !v->empty())
            f.severity = parse_choice("severity", *v, kSeverities, true);
        if (auto v = param(req, "status"); v && !v->empty())
            f.status = parse_choice("status", *v, kStatuses);
        if (auto v = param(req, "device"); v && !v->empty())
            f.device = parse_name("device", *v);
        if (auto v = param(req, "from"); v && !v->empty())
            f.from = parse_time("from", *v);
        if (auto v = param(req, "to"); v && !v->empty())
            f.to = parse_time("to", *v);
        if (f.from && f.to && *f.to <= *f.from)
            throw BadParam("to", "must be after from");
        const auto rows = with_queries([&](store::Queries& q) { return q.alerts(f); });
        json list = json::array();
        for (const auto& a : rows)
            list.push_back(alert_json(a));
        send_json(res, 200, json{{"count", list.size()}, {"results", std::move(list)}});
    }

    void alert_status(const Request& req, Response& res, const std::string& status) {
        const std::string id = req.matches[1];
        auto current = with_queries([&](store::Queries& q) { return q.alert(id); });
        if (!current) {
            send_error(res, 404, "no alert with this id", "id");
            return;
        }
        if (status == "acknowledged" && current->status == "resolved") {
            send_error(res, 409, "the alert is already resolved");
            return;
        }
        if (current->status != status) {
            std::lock_guard lock(writer_mutex);
            writer->set_alert_status(id, status, core::now_millis());
        }
        auto after = with_queries([&](store::Queries& q) { return q.alert(id); });
        if (!after) {
            send_error(res, 404, "no alert with this id", "id");
            return;
        }
        auto j = alert_json(*after);
        hub.publish("alert", to_text(j));
        send_json(res, 200, j);
    }

    void readings(const Request& req, Response& res) {
        const auto device = param(req, "device");
        if (!device)
            throw BadParam("device", "required");
        const auto sensor = param(req, "sensor");
        if (!sensor)
            throw BadParam("sensor", "required");
        const auto d = parse_name("device", *device);
        const auto s = parse_name("sensor", *sensor);
        const auto points = static_cast<std::size_t>(
            param(req, "points") ? parse_int("points", *param(req, "points"), 2, 5000) : 1000);
        std::int64_t to = core::now_millis();
        if (auto v = param(req, "to"); v && !v->empty())
            to = parse_time("to", *v);
        std::int64_t from = to - 24 * 3600 * 1000;
        if (auto v = param(req, "from"); v && !v->empty())
            from = parse_time("from", *v);
        if (to <= from)
            throw BadParam("to", "must be after from");
        constexpr std::int64_t kMaxSpan = 400LL * 24 * 3600 * 1000;
        if (to - from > kMaxSpan)
            throw BadParam("from", "the range may span at most 400 days");
        const auto r =
            with_queries([&](store::Queries& q) { return q.readings(d, s, from, to, points); });
        if (!r) {
            send_error(res, 404, "device '" + d + "' has no sensor '" + s + "'", "sensor");
            return;
        }
        send_json(res, 200, series_json(*r));
    }

    void commands(const Request& req, Response& res) {
        const auto limit = static_cast<int>(
            param(req, "limit") ? parse_int("limit", *param(req, "limit"), 1, 200) : 20);
        const auto rows = with_queries([&](store::Queries& q) { return q.commands(limit); });
        json list = json::array();
        for (const auto& c : rows)
            list.push_back(command_json(c));
        send_json(res, 200, json{{"count", list.size()}, {"results", std::move(list)}});
    }

    void send_command(const Request& req, Response& res) {
        const auto request = parse_command_request(req.body);
        try {
            send_json(res, 202, control->send(request));
        } catch (const ControlService::Unavailable& e) {
            send_error(res, 503, e.what());
        }
    }

    void stream(const Request& req, Response& res) {
        std::uint64_t after = hub.last_seq();
        if (req.has_header("Last-Event-ID")) { // resume after a reconnect, if still in the ring
            try {
                after = std::min<std::uint64_t>(after,
                                                std::stoull(req.get_header_value("Last-Event-ID")));
            } catch (const std::exception&) { // NOLINT(bugprone-empty-catch): start from now
            }
        }
        const std::string client = req.remote_addr;
        if (!slots.take(client)) {
            ++streams_refused;
            res.set_header("Retry-After", "10");
            send_error(res, 503,
                       fmt::format("too many live streams open (at most {} in all, {} from one "
                                   "address); try again later",
                                   slots.total_limit(), slots.per_client_limit()));
            return;
        }
        res.set_header("Cache-Control", "no-store");
        res.set_header("X-Accel-Buffering", "no");
        res.set_header("Content-Type", "text/event-stream");
        ++hub.clients;
        // Released when the stream ends, whichever side ends it (or if it never starts).
        std::shared_ptr<void> hold(nullptr, [this, client](void*) {
            --hub.clients;
            slots.give_back(client);
        });
        res.stream = EventStream{after, "retry: 2000\n: connected\n\n", std::move(hold)};
    }

    void health(const Request&, Response& res) {
        json j{{"status", "ok"}};
        try {
            j["schema_version"] =
                with_queries([](store::Queries& q) { return q.schema_version(); });
            j["database"] = "ok";
        } catch (const std::exception& e) {
            j["status"] = "degraded";
            j["database"] = e.what();
        }
        j["mqtt"] = publisher == nullptr     ? "off"
                    : publisher->connected() ? "connected"
                                             : "disconnected";
        j["control"] = publisher != nullptr && (opt.tokens || opt.allow_control);
        j["auth"] = opt.tokens ? "tokens" : "loopback";
        j["stream_clients"] = hub.clients.load();
        j["stream_limit"] = slots.total_limit();
        j["stream_limit_per_client"] = slots.per_client_limit();
        j["uptime_s"] = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
        send_json(res, j["status"] == "ok" ? 200 : 503, j);
    }

    void metrics(Response& res) {
        std::string out;
        out += "# HELP iots_serve_requests_total API requests by route and status.\n"
               "# TYPE iots_serve_requests_total counter\n";
        std::map<std::string, double> secs;
        {
            std::lock_guard lock(metrics_mutex);
            for (const auto& [k, n] : requests)
                out += "iots_serve_requests_total{route=\"" + label(k.first) + "\",code=\"" +
                       std::to_string(k.second) + "\"} " + std::to_string(n) + "\n";
            secs = seconds;
        }
        out += "# HELP iots_serve_request_seconds_total Time spent answering, by route.\n"
               "# TYPE iots_serve_request_seconds_total counter\n";
        for (const auto& [k, s] : secs)
            out += "iots_serve_request_seconds_total{route=\"" + label(k) + "\"} " +
                   fmt::format("{:.6f}", s) + "\n";
        const auto counter = [&](const char* name, const char* help, std::uint64_t v) {
            out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, v);
        };
        const auto gauge = [&](const char* name, const char* help, std::int64_t v) {
            out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, v);
        };
        counter("iots_serve_refused_total",
                "Requests refused before routing (access, host, origin, framing).", refused);
        const auto commands = control->counters();
        counter("iots_serve_commands_sent_total", "Commands published to actuators.",
                commands.sent);
        counter("iots_serve_command_acks_total", "Command answers recorded.", commands.acks);
        counter("iots_serve_command_failures_total", "Commands the broker did not take.",
                commands.failures);
        counter("iots_serve_stream_polls_total", "Database polls of the live stream.", hub.polls);
        counter("iots_serve_stream_poll_errors_total", "Failed polls of the live stream.",
                hub.poll_errors);
        gauge("iots_serve_stream_clients", "Open Server-Sent Events streams.", hub.clients);
        counter("iots_serve_streams_refused_total",
                "Live streams refused because the cap was reached.", streams_refused);
        try {
            const auto s = with_queries([&](store::Queries& q) {
                return q.summary(core::now_millis(), opt.active_window_ms, opt.recent_window_ms);
            });
            gauge("iots_devices", "Devices known.", s.total_devices);
            gauge("iots_devices_active", "Devices online or heard from recently.",
                  s.active_devices);
            counter("iots_readings_total", "Readings stored.",
                    static_cast<std::uint64_t>(s.total_readings));
            counter("iots_anomalies_total", "Anomalous readings stored.",
                    static_cast<std::uint64_t>(s.total_anomalies));
            out += "# HELP iots_alerts Alerts stored, by severity.\n# TYPE iots_alerts gauge\n";
            for (const auto& [sev, n] : s.alerts_by_severity)
                out += "iots_alerts{severity=\"" + label(sev) + "\"} " + std::to_string(n) + "\n";
            out += "# HELP iots_alerts_open Alerts not yet acknowledged, by severity.\n"
                   "# TYPE iots_alerts_open gauge\n";
            for (const auto& [sev, n] : s.open_alerts_by_severity)
                out +=
                    "iots_alerts_open{severity=\"" + label(sev) + "\"} " + std::to_string(n) + "\n";
        } catch (const std::exception& e) {
            log.warn("metrics: {}", printable(e.what()));
        }
        res.set_header("Cache-Control", "no-store");
        set_body(res, std::move(out), "text/plain; version=0.0.4; charset=utf-8");
    }
};

Server::Server(ServerOptions options, const core::Logger& log, Publisher* publisher)
    : m_impl(std::make_unique<Impl>(std::move(options), log, publisher)) {}

Server::~Server() {
    stop();
}

int Server::bind() {
    auto& i = *m_impl;
    i.opt.port = i.listener->bind(i.opt.host, i.opt.port);
    return i.opt.port;
}

void Server::run() {
    m_impl->hub.start();
    m_impl->listener->run();
}

void Server::stop() {
    m_impl->hub.stop();
    m_impl->listener->stop();
}

void Server::handle_ack(std::string_view topic, std::string_view payload) {
    m_impl->control->handle_ack(topic, payload);
}

} // namespace iots::http
