#include "iotshield/http/server_impl.hpp"

#include <nlohmann/json.hpp>

namespace iots::http {

namespace {

// Self only, no inline script; inline style only the page's own stylesheet, by its hash.
std::string content_security_policy() {
    const auto hashes = style_hashes();
    return "default-src 'self'; script-src 'self'; style-src 'self'" +
           (hashes.empty() ? std::string() : " " + std::string(hashes)) +
           "; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
           "base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
}

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

void set_body(Response& res, std::string body, std::string_view content_type) {
    res.body = std::move(body);
    res.set_header("Content-Type", std::string(content_type));
}

void send_json(Response& res, int status, const json& body) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    set_body(res, to_text(body), "application/json");
}

void send_error(Response& res, int status, const std::string& message,
                const std::string& parameter) {
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

Server::Impl::Impl(ServerOptions o, const core::Logger& l, Publisher* p)
    : opt(std::move(o)), log(l), publisher(p), hub(opt.db_path, opt.poll_ms, l),
      hosts(opt.allowed_hosts, opt.host),
      slots(checked_max_streams(opt), opt.max_streams_per_client) {
    // The writer connection creates and migrates the file if needed, so the readers can open.
    writer = std::make_unique<store::Commands>(opt.db_path);
    control = std::make_unique<control::ControlService>(
        opt.topic_prefix, opt.command_timeout_ms, publisher, *writer, writer_mutex,
        [this](const store::CommandRow& row, std::string_view topic) {
            auto j = command_json(row);
            if (!topic.empty())
                j["topic"] = topic;
            hub.publish("command", to_text(j));
        },
        log);
    release(std::make_unique<store::Queries>(opt.db_path)); // fails early on a bad file
    setup();
    listener = make_listener();
}

std::unique_ptr<store::Queries> Server::Impl::acquire() {
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

void Server::Impl::release(std::unique_ptr<store::Queries> q) {
    std::lock_guard lock(pool_mutex);
    if (pool.size() < static_cast<std::size_t>(opt.threads))
        pool.push_back(std::move(q));
}

void Server::Impl::add(const RouteDef& def, Handler h) {
    const std::string route = def.path;
    auto wrapped = [this, route, h = std::move(h)](Request& req, Response& res) {
        const auto t0 = std::chrono::steady_clock::now();
        try {
            h(req, res);
        } catch (const BadParam& e) {
            send_error(res, 400, e.what(), e.parameter());
        } catch (const Error& e) {
            log.warn("{} {}: {}", core::printable(req.method), core::printable(req.path),
                     core::printable(e.what()));
            send_error(res, e.code() == Exit::unavailable ? 503 : 500, e.what());
        } catch (const std::exception& e) {
            log.warn("{} {}: {}", core::printable(req.method), core::printable(req.path),
                     core::printable(e.what()));
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

void Server::Impl::setup() {
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

Response Server::Impl::handle(Request& req) {
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

std::optional<Response> Server::Impl::screen(const Request& req) {
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

std::unique_ptr<Listener> Server::Impl::make_listener() {
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

void Server::Impl::page(Response& res) {
    std::optional<json> summary;
    if (!opt.tokens) {
        try {
            summary = json::parse(summary_text());
        } catch (const std::exception& e) { // the page still loads; app.js reports the error
            log.warn("GET /: {}", core::printable(e.what()));
        }
    }
    res.set_header("Cache-Control", "no-store");
    set_body(res, render_page(page_template, overview_slots(summary ? &*summary : nullptr)),
             "text/html; charset=utf-8");
}

void Server::Impl::file(const Request& req, Response& res, const Asset& a) {
    const bool gzip = a.gzip != nullptr && req.has_header("Accept-Encoding") &&
                      accepts_gzip(req.get_header_value("Accept-Encoding"));
    const std::string etag = "\"" + std::string(a.version) + (gzip ? "-gz\"" : "\"");
    const bool current = req.has_param("v") && req.get_param_value("v") == a.version;
    res.set_header("Cache-Control", current ? "public, max-age=31536000, immutable" : "no-cache");
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

std::optional<Refusal> Server::Impl::refusal(const Request& req) const {
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
                                "'; start iots-serve with --allow-host " + *name + " if it should"};
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
                                req.get_header_value("Origin") + " is not this dashboard's own"};
    if (req.has_header("Sec-Fetch-Site") && !own_fetch_site(req.get_header_value("Sec-Fetch-Site")))
        return Refusal{403, "cross-site request refused (Sec-Fetch-Site: " +
                                req.get_header_value("Sec-Fetch-Site") + ")"};
    if (!is_json_media_type(req.get_header_value("Content-Type")))
        return Refusal{
            415, f.has_body ? "the body must be sent as Content-Type: application/json"
                            : "a POST needs Content-Type: application/json, even without a body"};
    // A compressed body is never inflated (63 KiB of gzip can hold 62 MiB).
    for (const auto& coding : req.header_values("Content-Encoding"))
        if (coding != "identity")
            return Refusal{415, "the body must be sent uncompressed (no Content-Encoding)"};
    return std::nullopt;
}

std::optional<Refusal> Server::Impl::access(const Request& req) const {
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
    m_impl->control->start();
    m_impl->listener->run();
}

void Server::stop() {
    m_impl->control->stop();
    m_impl->hub.stop();
    m_impl->listener->stop();
}

void Server::handle_ack(std::string_view topic, std::string_view payload) {
    m_impl->control->handle_ack(topic, payload);
}

} // namespace iots::http
