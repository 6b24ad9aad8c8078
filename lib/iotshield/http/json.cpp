#include "iotshield/http/json.hpp"

#include "iotshield/core/time.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace iots::http {

using nlohmann::json;

namespace {
template <typename T> json opt(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}
json time_or_null(const std::optional<std::int64_t>& ms) {
    return ms ? json(core::format_rfc3339(*ms)) : json(nullptr);
}
// Reasons are stored as JSON text by the detector; anything unparsable is passed on as a string.
json reasons(const std::string& text) {
    if (text.empty())
        return json::array();
    auto j = json::parse(text, nullptr, false);
    return j.is_discarded() ? json(text) : j;
}
} // namespace

json reading_json(const store::ReadingRow& r) {
    json j{{"ts", core::format_rfc3339(r.ts)},
           {"ts_ms", r.ts},
           {"device", r.device},
           {"sensor", r.sensor},
           {"value", r.value},
           {"unit", r.unit}};
    if (r.seq)
        j["seq"] = *r.seq;
    if (r.score)
        j["score"] = *r.score;
    if (r.anomaly)
        j["anomaly"] = *r.anomaly;
    if (!r.label.empty())
        j["label"] = r.label;
    return j;
}

json anomaly_json(const store::AnomalyRow& a) {
    return json{{"id", a.id},
                {"ts", core::format_rfc3339(a.ts)},
                {"ts_ms", a.ts},
                {"device", a.device},
                {"sensor", a.sensor},
                {"value", opt(a.value)},
                {"score", opt(a.score)},
                {"reasons", reasons(a.reasons)}};
}

json alert_json(const store::AlertRow& a) {
    json j{{"id", a.id},
           {"ts", core::format_rfc3339(a.ts)},
           {"ts_ms", a.ts},
           {"updated", time_or_null(a.updated_ts)},
           {"device", a.device},
           {"sensor", a.sensor},
           {"severity", a.severity},
           {"status", a.status},
           {"title", a.title},
           {"description", a.description},
           {"suggestion", a.suggestion},
           {"value", opt(a.value)},
           {"score", opt(a.score)},
           {"incident", a.incident},
           {"source", a.source}};
    // The rules text kept beside a model's text, so the pages can show both side by side.
    if (!a.rules_title.empty() || !a.rules_description.empty())
        j["rules"] = json{{"title", a.rules_title},
                          {"description", a.rules_description},
                          {"suggestion", a.rules_suggestion}};
    else
        j["rules"] = nullptr;
    return j;
}

json command_json(const store::CommandRow& c) {
    return json{{"kind", "command"},
                {"id", c.id},
                {"ts", core::format_rfc3339(c.ts)},
                {"ts_ms", c.ts},
                {"device", c.device},
                {"actuator", c.actuator},
                {"action", c.action},
                {"status", c.status},
                {"ack_ts", time_or_null(c.ack_ts)},
                {"latency_ms", opt(c.latency_ms)}};
}

json device_json(const store::DeviceRow& d, std::int64_t now_ms, std::int64_t active_window_ms) {
    json sensors = json::array();
    for (const auto& s : d.sensors)
        sensors.push_back(json{{"sensor", s.sensor},
                               {"unit", s.unit},
                               {"last_ts", time_or_null(s.last_ts)},
                               {"last_ts_ms", opt(s.last_ts)},
                               {"last_value", opt(s.last_value)},
                               {"count", s.count},
                               {"anomalies", s.anomalies}});
    // Online: the retained status says so, or, with no status, a reading within the window.
    const bool recent = d.last_seen && *d.last_seen >= now_ms - active_window_ms;
    const bool online = d.status.empty() ? recent : d.status == "online";
    return json{{"device", d.name},
                {"location", d.location},
                {"online", online},
                {"status", d.status.empty() ? json(nullptr) : json(d.status)},
                {"status_ts", time_or_null(d.status_ts)},
                {"first_seen", time_or_null(d.first_seen)},
                {"last_seen", time_or_null(d.last_seen)},
                {"last_seen_ms", opt(d.last_seen)},
                {"sensors", std::move(sensors)}};
}

json summary_json(const store::Summary& s) {
    json sensors = json::array();
    for (const auto& x : s.sensors)
        sensors.push_back(json{{"sensor", x.sensor},
                               {"unit", x.unit},
                               {"devices", x.series},
                               {"readings", x.readings},
                               {"anomalies", x.anomalies},
                               {"last_ts", time_or_null(x.last_ts)},
                               {"latest_min", opt(x.min_last)},
                               {"latest_max", opt(x.max_last)},
                               {"latest_mean", opt(x.mean_last)}});
    std::string status = "ok";
    if (s.open_alerts_by_severity.at("CRITICAL") > 0)
        status = "critical";
    else if (s.open_alerts_by_severity.at("HIGH") > 0 || s.recent_anomalies > 0)
        status = "warning";
    else if (s.total_devices > 0 && s.active_devices == 0)
        status = "idle";
    return json{{"total_devices", s.total_devices},
                {"active_devices", s.active_devices},
                {"total_readings", s.total_readings},
                {"total_anomalies", s.total_anomalies},
                {"total_alerts", s.total_alerts},
                {"open_alerts", s.open_alerts},
                {"recent_anomalies", s.recent_anomalies},
                {"system_status", status},
                {"last_reading_ts", time_or_null(s.last_reading_ts)},
                {"alerts_by_severity", s.alerts_by_severity},
                {"open_alerts_by_severity", s.open_alerts_by_severity},
                {"sensors", std::move(sensors)},
                {"counters", s.counters}};
}

namespace {
// series_json without its points: an empty array in their place.
json series_head(const store::SeriesRange& r) {
    json anomalies = json::array();
    for (const auto& a : r.anomalies)
        anomalies.push_back(json{{"ts_ms", a.ts},
                                 {"value", opt(a.value)},
                                 {"score", opt(a.score)},
                                 {"reasons", reasons(a.reasons)}});
    return json{{"device", r.device},
                {"sensor", r.sensor},
                {"unit", r.unit},
                {"from", core::format_rfc3339(r.from)},
                {"to", core::format_rfc3339(r.to)},
                {"from_ms", r.from},
                {"to_ms", r.to},
                {"count", r.raw_count},
                {"downsampled", r.downsampled},
                {"tier", r.tier},
                {"points", json::array()},
                {"anomalies", std::move(anomalies)}};
}

// A number as nlohmann's serializer writes it: integers in full, a double by the same to_chars
// (its shortest round-trip digits), not finite as null.
void append_number(std::string& out, std::int64_t v) {
    std::array<char, 24> buf{};
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    out.append(buf.data(), static_cast<std::size_t>(r.ptr - buf.data()));
}
void append_number(std::string& out, double v) {
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    std::array<char, 64> buf{};
    const char* end = nlohmann::detail::to_chars(buf.data(), buf.data() + buf.size(), v);
    out.append(buf.data(), static_cast<std::size_t>(end - buf.data()));
}
} // namespace

json series_json(const store::SeriesRange& r) {
    json j = series_head(r);
    json& points = j["points"];
    for (const auto& p : r.points)
        points.push_back(json::array({p.ts, p.value}));
    return j;
}

std::string series_text(const store::SeriesRange& r) {
    std::string head = to_text(series_head(r));
    // Keys are written in order (a std::map) and the strings escaped, so the one unescaped
    // "points":[] is the member itself.
    static constexpr std::string_view kEmpty = "\"points\":[]";
    const std::size_t at = head.find(kEmpty);
    if (at == std::string::npos)
        return to_text(series_json(r));
    std::string out;
    out.reserve(head.size() + r.points.size() * 24);
    out.append(head, 0, at + kEmpty.size() - 1);
    for (std::size_t i = 0; i < r.points.size(); ++i) {
        out += i == 0 ? "[" : ",[";
        append_number(out, std::int64_t{r.points[i].ts});
        out += ',';
        append_number(out, r.points[i].value);
        out += ']';
    }
    out.append(head, at + kEmpty.size() - 1, std::string::npos);
    return out;
}

std::string to_text(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace iots::http
