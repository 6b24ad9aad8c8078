#include "iotshield/http/server_impl.hpp"

namespace iots::http {

namespace {

const std::vector<std::string_view> kSeverities{"LOW", "MEDIUM", "HIGH", "CRITICAL"};
const std::vector<std::string_view> kStatuses{"new", "acknowledged", "resolved"};

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

void Server::Impl::summary(const Request&, Response& res) {
    res.status = 200;
    res.set_header("Cache-Control", "no-store");
    set_body(res, summary_text(), "application/json");
}

std::string Server::Impl::summary_text() {
    // The counts come from counters the writers keep; the JSON is also kept per connection
    // until another connection commits or the clock's second changes (the windows move).
    return with_queries([&](store::Queries& q) {
        const auto now = core::now_millis();
        const auto dv = q.data_version();
        if (q.memo.data_version != dv || q.memo.second != now / 1000) {
            q.memo.text =
                to_text(summary_json(q.summary(now, opt.active_window_ms, opt.recent_window_ms)));
            q.memo.data_version = dv;
            q.memo.second = now / 1000;
        }
        return q.memo.text;
    });
}

void Server::Impl::devices(const Request&, Response& res) {
    const auto rows = with_queries([](store::Queries& q) { return q.devices(); });
    const auto now = core::now_millis();
    json list = json::array();
    for (const auto& d : rows)
        list.push_back(device_json(d, now, opt.active_window_ms));
    send_json(res, 200, json{{"count", list.size()}, {"results", std::move(list)}});
}

void Server::Impl::recent(const Request& req, Response& res) {
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

void Server::Impl::alerts(const Request& req, Response& res) {
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

void Server::Impl::alert_status(const Request& req, Response& res, const std::string& status) {
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

void Server::Impl::readings(const Request& req, Response& res) {
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
    res.status = 200; // send_json's, with the points written straight into the text
    res.set_header("Cache-Control", "no-store");
    set_body(res, series_text(*r), "application/json");
}

void Server::Impl::commands(const Request& req, Response& res) {
    const auto limit = static_cast<int>(
        param(req, "limit") ? parse_int("limit", *param(req, "limit"), 1, 200) : 20);
    const auto rows = with_queries([&](store::Queries& q) { return q.commands(limit); });
    json list = json::array();
    for (const auto& c : rows)
        list.push_back(command_json(c));
    send_json(res, 200, json{{"count", list.size()}, {"results", std::move(list)}});
}

void Server::Impl::send_command(const Request& req, Response& res) {
    const auto request = parse_command_request(req.body);
    try {
        const auto sent = control->send(request);
        auto j = command_json(sent.row);
        j["topic"] = sent.topic;
        send_json(res, 202, j);
    } catch (const control::ControlService::Unavailable& e) {
        send_error(res, 503, e.what());
    }
}

void Server::Impl::stream(const Request& req, Response& res) {
    std::uint64_t after = hub.last_seq();
    if (req.has_header("Last-Event-ID")) { // resume after a reconnect, if still in the ring
        try {
            after =
                std::min<std::uint64_t>(after, std::stoull(req.get_header_value("Last-Event-ID")));
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

void Server::Impl::health(const Request&, Response& res) {
    json j{{"status", "ok"}};
    try {
        j["schema_version"] = with_queries([](store::Queries& q) { return q.schema_version(); });
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
    j["uptime_s"] =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
            .count();
    send_json(res, j["status"] == "ok" ? 200 : 503, j);
}

void Server::Impl::metrics(Response& res) {
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
    counter("iots_serve_commands_sent_total", "Commands published to actuators.", commands.sent);
    counter("iots_serve_command_acks_total", "Command answers recorded.", commands.acks);
    counter("iots_serve_command_failures_total", "Commands the broker did not take.",
            commands.failures);
    counter("iots_serve_command_timeouts_total", "Commands no device answered in time.",
            commands.timeouts);
    counter("iots_serve_command_late_answers_total",
            "Answers that came after their command had timed out.", commands.late);
    counter("iots_serve_stream_polls_total", "Database polls of the live stream.", hub.polls);
    counter("iots_serve_stream_poll_errors_total", "Failed polls of the live stream.",
            hub.poll_errors);
    gauge("iots_serve_stream_clients", "Open Server-Sent Events streams.", hub.clients);
    counter("iots_serve_streams_refused_total", "Live streams refused because the cap was reached.",
            streams_refused);
    try {
        const auto s = with_queries([&](store::Queries& q) {
            return q.summary(core::now_millis(), opt.active_window_ms, opt.recent_window_ms);
        });
        gauge("iots_devices", "Devices known.", s.total_devices);
        gauge("iots_devices_active", "Devices online or heard from recently.", s.active_devices);
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
            out += "iots_alerts_open{severity=\"" + label(sev) + "\"} " + std::to_string(n) + "\n";
    } catch (const std::exception& e) {
        log.warn("metrics: {}", core::printable(e.what()));
    }
    res.set_header("Cache-Control", "no-store");
    set_body(res, std::move(out), "text/plain; version=0.0.4; charset=utf-8");
}

} // namespace iots::http
