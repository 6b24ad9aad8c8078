#include "iotshield/http/server.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/http/assets.hpp"
#include "iotshield/http/control.hpp"
#include "iotshield/http/events.hpp"
#include "iotshield/http/json.hpp"
#include "iotshield/http/page.hpp"
#include "iotshield/http/params.hpp"
#include "iotshield/record/sensor.hpp"
#include "iotshield/store/commands.hpp"
#include "iotshield/store/queries.hpp"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>

#include <sys/socket.h>

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

// The API's routes: the regex registered with cpp-httplib and the path the OpenAPI document uses.
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

std::string random_id() {
    static thread_local std::mt19937_64 rng{std::random_device{}() ^
                                            (std::uint64_t{std::random_device{}()} << 32U)};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id(32, '0');
    for (int half = 0; half < 2; ++half) {
        auto v = rng();
        for (int i = 0; i < 16; ++i, v >>= 4U)
            id[static_cast<std::size_t>(half * 16 + i)] = kHex[v & 0xFU];
    }
    return id;
}

// The answer's bytes as they are. cpp-httplib 0.11 compresses every text answer it is given with
// set_content, per request, and prefers brotli at its slowest setting whenever the client lists
// br, as browsers do: 0.5 s of CPU for chart.min.js, ~10 ms for a chart's JSON. A content
// provider with a known length is never compressed by it, so every answer goes through here.
void set_body(httplib::Response& res, std::string body, const char* content_type) {
    if (body.empty()) {
        res.set_content(std::string(), content_type);
        return;
    }
    auto owned = std::make_shared<const std::string>(std::move(body));
    const auto size = owned->size();
    res.set_content_provider(size, content_type,
                             [owned = std::move(owned)](std::size_t offset, std::size_t length,
                                                        httplib::DataSink& sink) {
                                 return sink.write(owned->data() + offset, length);
                             });
}

// Bytes that live as long as the program (the embedded files).
void set_static_body(httplib::Response& res, const unsigned char* data, std::size_t size,
                     std::string_view content_type) {
    res.set_content_provider(
        size, std::string(content_type),
        [data](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
            return sink.write(reinterpret_cast<const char*>(data) + offset, length);
        });
}

// If-None-Match lists `etag` (weak comparison, RFC 9110 §13.1.2) or is "*".
bool none_match(const httplib::Request& req, std::string_view etag) {
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

void send_json(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    set_body(res, to_text(body), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message,
                const std::string& parameter = {}) {
    json body{{"error", message}};
    if (!parameter.empty())
        body["parameter"] = parameter;
    send_json(res, status, body);
}

std::optional<std::string> param(const httplib::Request& req, const char* name) {
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
    using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

    ServerOptions opt;
    const core::Logger& log;
    Publisher* publisher;
    httplib::Server svr;
    EventHub hub;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

    // Read-only connections, one per worker at most, created on demand.
    std::mutex pool_mutex;
    std::vector<std::unique_ptr<store::Queries>> pool;

    std::mutex writer_mutex;
    std::unique_ptr<store::Commands> writer;

    std::mutex metrics_mutex;
    std::map<std::pair<std::string, int>, std::uint64_t> requests;
    std::map<std::string, double> seconds;
    std::atomic<std::uint64_t> refused{0};
    std::atomic<std::uint64_t> commands_sent{0}, command_acks{0}, command_failures{0};
    std::atomic<std::uint64_t> acks_ignored{0};

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

    Impl(ServerOptions o, const core::Logger& l, Publisher* p)
        : opt(std::move(o)), log(l), publisher(p), hub(opt.db_path, opt.poll_ms, l) {
        // The writer connection creates and migrates the file if needed, so the readers can open.
        writer = std::make_unique<store::Commands>(opt.db_path);
        release(std::make_unique<store::Queries>(opt.db_path)); // fails early on a bad file
        setup();
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
        auto wrapped = [this, route, h = std::move(h)](const httplib::Request& req,
                                                       httplib::Response& res) {
            const auto t0 = std::chrono::steady_clock::now();
            try {
                h(req, res);
            } catch (const BadParam& e) {
                send_error(res, 400, e.what(), e.parameter());
            } catch (const Error& e) {
                log.warn("{} {}: {}", req.method, req.path, e.what());
                send_error(res, e.code() == Exit::unavailable ? 503 : 500, e.what());
            } catch (const std::exception& e) {
                log.warn("{} {}: {}", req.method, req.path, e.what());
                send_error(res, 500, "internal error");
            }
            const double s =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::lock_guard lock(metrics_mutex);
            ++requests[{route, res.status}];
            seconds[route] += s;
        };
        if (std::string_view(def.method) == "GET")
            svr.Get(def.regex, wrapped);
        else
            svr.Post(def.regex, wrapped);
    }

    void setup() {
        svr.new_task_queue = [n = opt.threads] {
            return new httplib::ThreadPool(static_cast<std::size_t>(n));
        };
        // Nagle off: a small JSON answer must not wait for the client's delayed ACK (~40 ms).
        svr.set_tcp_nodelay(true);
        // cpp-httplib's default adds SO_REUSEPORT, which lets a second server bind the same port
        // silently; keep SO_REUSEADDR only, so a port in use is an error (exit 69).
        svr.set_socket_options([](int sock) {
            int yes = 1;
            ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
        });
        svr.set_keep_alive_max_count(10000);
        svr.set_payload_max_length(64 * 1024);
        svr.set_default_headers({{"Content-Security-Policy", content_security_policy()},
                                 {"X-Content-Type-Options", "nosniff"},
                                 {"Referrer-Policy", "no-referrer"},
                                 {"X-Frame-Options", "DENY"}});
        svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
            return authorize(req, res) ? httplib::Server::HandlerResponse::Unhandled
                                       : httplib::Server::HandlerResponse::Handled;
        });
        svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
            // Answers of ours have a Content-Type (set_body); cpp-httplib's own errors have none.
            if (!res.has_header("Content-Type"))
                send_error(res, res.status, res.status == 404 ? "not found" : "request refused");
        });

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

        svr.Get(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
            if (req.path.starts_with("/api/")) {
                send_error(res, 404, "not found");
                return;
            }
            if (req.path == "/" || req.path == "/index.html") {
                page(res);
                return;
            }
            const Asset* a = find_asset(req.path);
            if (a == nullptr) {
                send_error(res, 404, "not found");
                return;
            }
            file(req, res, *a);
        });
    }

    // The page, with the overview's counts written in. It holds data, so it is not stored by
    // caches, and with --tokens it holds none: the browser has not shown a token yet.
    void page(httplib::Response& res) {
        std::optional<json> summary;
        if (!opt.tokens) {
            try {
                summary = json::parse(summary_text());
            } catch (const std::exception& e) { // the page still loads; app.js reports the error
                log.warn("GET /: {}", e.what());
            }
        }
        res.set_header("Cache-Control", "no-store");
        set_body(res, render_page(page_template, overview_slots(summary ? &*summary : nullptr)),
                 "text/html; charset=utf-8");
    }

    // An embedded file. The page names each one with ?v=VERSION: asked for with its current
    // version it can be kept for a year; otherwise it is revalidated (ETag, 304).
    static void file(const httplib::Request& req, httplib::Response& res, const Asset& a) {
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

    // True: go on to the handler. False: answered here (401/403).
    bool authorize(const httplib::Request& req, httplib::Response& res) {
        const bool api = req.path.starts_with("/api/") || req.path == "/metrics";
        const bool post = req.method == "POST";
        if (!opt.tokens) {
            if (!is_loopback(req.remote_addr)) {
                ++refused;
                send_error(res, 403,
                           "only loopback clients are served without --tokens; start iots-serve "
                           "with --tokens FILE to serve others");
                return false;
            }
            if (post && req.path == "/api/control/send/" && !opt.allow_control) {
                ++refused;
                send_error(res, 403,
                           "control is off: start iots-serve with --allow-control, or with "
                           "--tokens and a control token");
                return false;
            }
            return true;
        }
        if (!api)
            return true; // the dashboard's files hold no data; it asks for a token
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
        if (scope == Scope::none) {
            ++refused;
            res.set_header("WWW-Authenticate", "Bearer realm=\"iotshield\"");
            send_error(res, 401, token ? "unknown token" : "a bearer token is required");
            return false;
        }
        if (post && scope != Scope::control) {
            ++refused;
            send_error(res, 403, "this token has the read scope; this call needs a control token");
            return false;
        }
        return true;
    }

    // ---- handlers ----
    void summary(const httplib::Request&, httplib::Response& res) {
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

    void devices(const httplib::Request&, httplib::Response& res) {
        const auto rows = with_queries([](store::Queries& q) { return q.devices(); });
        const auto now = core::now_millis();
        json list = json::array();
        for (const auto& d : rows)
            list.push_back(device_json(d, now, opt.active_window_ms));
        send_json(res, 200, json{{"count", list.size()}, {"results", std::move(list)}});
    }

    void recent(const httplib::Request& req, httplib::Response& res) {
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

    void alerts(const httplib::Request& req, httplib::Response& res) {
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

    void alert_status(const httplib::Request& req, httplib::Response& res,
                      const std::string& status) {
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

    void readings(const httplib::Request& req, httplib::Response& res) {
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

    void commands(const httplib::Request& req, httplib::Response& res) {
        const auto limit = static_cast<int>(
            param(req, "limit") ? parse_int("limit", *param(req, "limit"), 1, 200) : 20);
        const auto rows = with_queries([&](store::Queries& q) { return q.commands(limit); });
        json list = json::array();
        for (const auto& c : rows)
            list.push_back(command_json(c));
        send_json(res, 200, json{{"count", list.size()}, {"results", std::move(list)}});
    }

    void send_command(const httplib::Request& req, httplib::Response& res) {
        const auto request = parse_command_request(req.body);
        store::CommandRow c;
        c.device = request.device;
        c.actuator = request.actuator;
        c.action = request.action;
        if (publisher == nullptr) {
            send_error(res, 503,
                       "control: no MQTT broker configured (start iots-serve with -h HOST)");
            return;
        }
        c.id = random_id();
        c.ts = core::now_millis();
        c.status = "sent";
        const std::string topic =
            opt.topic_prefix + "/control/" + c.device; // DESIGN §3, device validated above
        const json cmd{{"kind", "command"},
                       {"id", c.id},
                       {"ts", core::format_rfc3339(c.ts)},
                       {"device", c.device},
                       {"actuator", c.actuator},
                       {"action", c.action}};
        auto j = command_json(c);
        j["topic"] = topic;
        {
            std::lock_guard lock(writer_mutex);
            writer->insert_command(c); // stored before it is sent: the ack can come back at once
        }
        hub.publish("command", to_text(j)); // before the answer can be, so "sent" never follows it
        try {
            publisher->publish(topic, to_text(cmd));
        } catch (const std::exception& e) {
            ++command_failures;
            {
                std::lock_guard lock(writer_mutex);
                writer->record_ack(c.id, "failed", core::now_millis());
            }
            send_error(res, 503, std::string("control: could not publish: ") + e.what());
            return;
        }
        ++commands_sent;
        send_json(res, 202, j);
    }

    void stream(const httplib::Request& req, httplib::Response& res) {
        std::uint64_t after = hub.last_seq();
        if (req.has_header("Last-Event-ID")) { // resume after a reconnect, if still in the ring
            try {
                after = std::min<std::uint64_t>(after,
                                                std::stoull(req.get_header_value("Last-Event-ID")));
            } catch (const std::exception&) { // NOLINT(bugprone-empty-catch): start from now
            }
        }
        res.set_header("Cache-Control", "no-store");
        res.set_header("X-Accel-Buffering", "no");
        ++hub.clients;
        auto first = std::make_shared<bool>(true);
        res.set_chunked_content_provider(
            "text/event-stream",
            [this, after, first](std::size_t, httplib::DataSink& sink) mutable {
                if (*first) {
                    *first = false;
                    const std::string hello = "retry: 2000\n: connected\n\n";
                    return sink.write(hello.data(), hello.size());
                }
                const auto events = hub.wait(after, 15000);
                if (hub.stopping()) {
                    sink.done();
                    return false;
                }
                std::string out;
                if (events.empty())
                    out = ": keep-alive\n\n";
                for (const auto& e : events) {
                    out.append("id: ").append(std::to_string(e.seq)).append("\nevent: ");
                    out.append(e.type).append("\ndata: ").append(e.data).append("\n\n");
                    after = e.seq;
                }
                return sink.write(out.data(), out.size());
            },
            [this](bool) { --hub.clients; });
    }

    void health(const httplib::Request&, httplib::Response& res) {
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
        j["uptime_s"] = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
        send_json(res, j["status"] == "ok" ? 200 : 503, j);
    }

    void metrics(httplib::Response& res) {
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
        counter("iots_serve_refused_total", "Requests refused by access control.", refused);
        counter("iots_serve_commands_sent_total", "Commands published to actuators.",
                commands_sent);
        counter("iots_serve_command_acks_total", "Command answers recorded.", command_acks);
        counter("iots_serve_command_failures_total", "Commands the broker did not take.",
                command_failures);
        counter("iots_serve_stream_polls_total", "Database polls of the live stream.", hub.polls);
        counter("iots_serve_stream_poll_errors_total", "Failed polls of the live stream.",
                hub.poll_errors);
        gauge("iots_serve_stream_clients", "Open Server-Sent Events streams.", hub.clients);
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
            log.warn("metrics: {}", e.what());
        }
        res.set_header("Cache-Control", "no-store");
        set_body(res, std::move(out), "text/plain; version=0.0.4; charset=utf-8");
    }

    void handle_ack(std::string_view topic, std::string_view payload) {
        // <prefix>/control/<device>/ack
        const std::string head = opt.topic_prefix + "/control/";
        if (!topic.starts_with(head) || !topic.ends_with("/ack"))
            return;
        const auto device = topic.substr(head.size(), topic.size() - head.size() - 4);
        std::string why;
        const auto ack = parse_ack(payload, why);
        if (!ack) {
            ++acks_ignored;
            log.warn("control: ignored an answer on {}: {}", topic, why);
            return;
        }
        const auto& id = ack->id;
        const auto& status = ack->status;
        try {
            std::optional<store::CommandRow> row;
            {
                std::lock_guard lock(writer_mutex);
                row = with_queries([&](store::Queries& q) { return q.command(id); });
                // Only the device the command went to may answer it.
                if (!row || row->device != device) {
                    ++acks_ignored;
                    log.warn("control: ignored an answer on {}: no command {} for this device",
                             topic, id);
                    return;
                }
                row = writer->record_ack(id, status, core::now_millis());
            }
            if (row) {
                ++command_acks;
                hub.publish("command", to_text(command_json(*row)));
            }
        } catch (const std::exception& e) {
            log.warn("control: recording the answer to {}: {}", id, e.what());
        }
    }
};

Server::Server(ServerOptions options, const core::Logger& log, Publisher* publisher)
    : m_impl(std::make_unique<Impl>(std::move(options), log, publisher)) {}

Server::~Server() {
    stop();
}

int Server::bind() {
    auto& i = *m_impl;
    int port = i.opt.port;
    if (port == 0) {
        port = i.svr.bind_to_any_port(i.opt.host);
        if (port < 0)
            port = 0;
    } else if (!i.svr.bind_to_port(i.opt.host, port)) {
        port = 0;
    }
    if (port == 0)
        throw Error(Exit::unavailable, "cannot listen on " + i.opt.host + ":" +
                                           std::to_string(i.opt.port) +
                                           " (in use, or not an address of this machine)");
    i.opt.port = port;
    return port;
}

void Server::run() {
    m_impl->hub.start();
    m_impl->svr.listen_after_bind();
}

void Server::stop() {
    m_impl->hub.stop(); // ends the open streams first, so the workers can finish
    m_impl->svr.stop();
}

void Server::handle_ack(std::string_view topic, std::string_view payload) {
    m_impl->handle_ack(topic, payload);
}

} // namespace iots::http
