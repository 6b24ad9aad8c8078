#include "iotshield/alert/incident.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace iots::alert {

const SensorSnapshot* Incident::find(std::string_view sensor) const noexcept {
    for (const auto& s : sensors)
        if (s.sensor == sensor)
            return &s;
    return nullptr;
}

std::string_view event_name(EventKind k) noexcept {
    switch (k) {
    case EventKind::open:
        return "open";
    case EventKind::raise:
        return "raise";
    case EventKind::resolve:
        return "resolve";
    }
    return "open";
}

IncidentTracker::IncidentTracker(TrackerOptions options) : m_options(options) {}

namespace {
std::string next_alert_id(Incident& inc) {
    return fmt::format("{}.{}", inc.id, ++inc.alerts);
}

Severity peak_reading(const Incident& inc) noexcept {
    Severity s = Severity::low;
    for (const auto& snap : inc.sensors)
        s = std::max(s, snap.severity);
    return s;
}
} // namespace

void IncidentTracker::update_deadline() noexcept {
    core::Millis d = 0;
    for (const auto& [device, inc] : m_open) {
        const core::Millis due = inc.last_ts + m_options.quiet_ms;
        if (d == 0 || due < d)
            d = due;
    }
    m_next_deadline = d;
}

void IncidentTracker::resolve(Incident& inc, core::Millis ts, std::vector<Event>& out) {
    Event e;
    e.kind = EventKind::resolve;
    e.ts = ts;
    e.alert_id = next_alert_id(inc);
    e.previous = inc.severity;
    const SensorSnapshot* worst = nullptr;
    for (const auto& s : inc.sensors)
        if (worst == nullptr || s.severity > worst->severity)
            worst = &s;
    e.sensor = worst != nullptr ? worst->sensor : std::string();
    e.incident = inc;
    out.push_back(std::move(e));
}

void IncidentTracker::advance(core::Millis now, std::vector<Event>& out) {
    m_stream_now = std::max(m_stream_now, now);
    if (m_next_deadline == 0 || m_stream_now < m_next_deadline)
        return;
    // Resolve in the order the quiet periods ended, so the output is the same on every replay.
    std::vector<Incident*> due;
    for (auto& [device, inc] : m_open)
        if (inc.last_ts + m_options.quiet_ms <= m_stream_now)
            due.push_back(&inc);
    std::sort(due.begin(), due.end(), [](const Incident* a, const Incident* b) {
        return a->last_ts != b->last_ts ? a->last_ts < b->last_ts : a->device < b->device;
    });
    std::vector<std::string> done;
    for (Incident* inc : due) {
        resolve(*inc, inc->last_ts + m_options.quiet_ms, out);
        done.push_back(inc->device);
    }
    for (const auto& d : done)
        m_open.erase(d);
    update_deadline();
}

void IncidentTracker::tick(core::Millis wall_now, std::vector<Event>& out) {
    if (!m_options.wall_clock || m_open.empty())
        return;
    std::vector<std::string> done;
    for (auto& [device, inc] : m_open)
        if (wall_now - inc.last_wall >= m_options.quiet_ms)
            done.push_back(device);
    std::sort(done.begin(), done.end());
    for (const auto& d : done) {
        auto it = m_open.find(d);
        // Stream time of the resolution: what the records would have said had the feed gone on.
        resolve(it->second, it->second.last_ts + m_options.quiet_ms, out);
        m_stream_now = std::max(m_stream_now, it->second.last_ts + m_options.quiet_ms);
        m_open.erase(it);
    }
    if (!done.empty())
        update_deadline();
}

void IncidentTracker::observe(const record::Reading& r, core::Millis wall_now,
                              std::vector<Event>& out) {
    ++m_counters.readings;
    advance(r.ts, out);
    // A danger is an incident's reading even when the detector, with higher levels, did not flag
    // it.
    const bool flagged = r.anomaly.value_or(false);
    if (!flagged && !is_hazard(r, m_options.policy))
        return;
    if (flagged)
        ++m_counters.anomalies;

    auto it = m_open.find(r.device);
    if (it != m_open.end() && r.ts - it->second.last_ts > m_options.window_ms) {
        // Past the window but not yet quiet long enough (quiet > window): this incident ends here.
        resolve(it->second, r.ts, out);
        m_open.erase(it);
        it = m_open.end();
    }
    const bool opening = it == m_open.end();
    if (opening) {
        Incident inc;
        inc.device = r.device;
        inc.id = fmt::format("{}-{}", r.device, r.ts);
        inc.opened_ts = r.ts;
        it = m_open.emplace(r.device, std::move(inc)).first;
        ++m_counters.incidents;
    }
    Incident& inc = it->second;
    if (!r.location.empty())
        inc.location = r.location;
    inc.last_ts = std::max(inc.last_ts, r.ts);
    inc.last_wall = wall_now;
    ++inc.readings;

    SensorSnapshot* snap = nullptr;
    for (auto& s : inc.sensors)
        if (s.sensor == r.sensor)
            snap = &s;
    if (snap == nullptr) {
        inc.sensors.emplace_back();
        snap = &inc.sensors.back();
        snap->sensor = r.sensor;
    }
    snap->unit = r.unit;
    snap->value = r.value;
    snap->score = r.score.value_or(0.0);
    snap->reasons = r.reasons;
    // A sensor's severity is the worst it showed in this incident: a flame that flickers off again
    // does not make the fire less serious.
    snap->severity = std::max(snap->severity, reading_severity(r, m_options.policy));
    snap->last_ts = r.ts;

    const Severity before = inc.severity;
    const Severity now = incident_severity(peak_reading(inc), inc.last_ts - inc.opened_ts,
                                           inc.sensors.size(), m_options.policy);
    if (opening) {
        inc.severity = now;
        Event e;
        e.kind = EventKind::open;
        e.ts = r.ts;
        e.alert_id = next_alert_id(inc);
        e.sensor = r.sensor;
        e.previous = now;
        e.incident = inc;
        out.push_back(std::move(e));
    } else if (now > before) {
        inc.severity = now;
        Event e;
        e.kind = EventKind::raise;
        e.ts = r.ts;
        e.alert_id = next_alert_id(inc);
        e.sensor = r.sensor;
        e.previous = before;
        e.incident = inc;
        out.push_back(std::move(e));
    } else {
        ++m_counters.joined;
    }
    update_deadline();
}

} // namespace iots::alert
