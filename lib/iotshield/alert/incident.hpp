#pragma once
// Incidents per device (man/iots-alert.1, INCIDENTS). Anomalous readings of one device no more than
// `window` apart form one incident; it alerts when it opens, again only when its severity rises,
// and once more when `quiet` has passed without an anomaly of that device. Time is the records' own
// timestamps (stream time, so replaying a file gives the same alerts), plus the wall clock for a
// live feed that simply goes silent. Pure: no I/O, the caller passes the wall clock in.
#include "iotshield/alert/severity.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/record/reading.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace iots::alert {

struct SensorSnapshot {
    std::string sensor;
    std::string unit;
    double value = 0;
    double score = 0;
    std::vector<std::string> reasons;
    Severity severity = Severity::low;
    core::Millis last_ts = 0;
};

struct Incident {
    std::string id; // "<device>-<opened_ts>": replaying the same stream gives the same ids
    std::string device;
    std::string location;
    core::Millis opened_ts = 0;
    core::Millis last_ts = 0;   // last anomalous reading, stream time
    core::Millis last_wall = 0; // when it arrived, wall clock
    Severity severity = Severity::low;
    std::vector<SensorSnapshot> sensors; // latest anomalous reading per sensor, in order seen
    std::uint64_t readings = 0;          // anomalous readings joined
    int alerts = 0;                      // alerts raised so far (numbers the alert ids)

    [[nodiscard]] const SensorSnapshot* find(std::string_view sensor) const noexcept;
};

enum class EventKind { open, raise, resolve };
[[nodiscard]] std::string_view event_name(EventKind k) noexcept;

// One alert to raise: a snapshot of the incident at that moment.
struct Event {
    EventKind kind = EventKind::open;
    core::Millis ts = 0;  // stream time of the alert
    std::string alert_id; // "<incident id>.<n>"
    std::string sensor;   // the reading that caused it (resolve: the incident's worst sensor)
    Severity previous = Severity::low; // raise: the severity before
    Incident incident;
};

struct TrackerOptions {
    core::Millis window_ms = 5 * 60 * 1000;
    core::Millis quiet_ms = 5 * 60 * 1000;
    bool wall_clock = true; // also resolve by wall-clock silence (live feeds)
    SeverityPolicy policy;
};

struct TrackerCounters {
    std::uint64_t readings = 0;
    std::uint64_t anomalies = 0;
    std::uint64_t incidents = 0;
    std::uint64_t joined = 0; // anomalies that joined an incident without a new alert
};

class IncidentTracker {
public:
    explicit IncidentTracker(TrackerOptions options = {});

    // Any scored reading: its timestamp advances stream time (which may resolve incidents); an
    // anomalous one opens or joins its device's incident. Events are appended in time order.
    void observe(const record::Reading& r, core::Millis wall_now, std::vector<Event>& out);
    // Resolves incidents whose last anomaly arrived quiet_ms ago or more on the wall clock.
    void tick(core::Millis wall_now, std::vector<Event>& out);

    [[nodiscard]] std::size_t open_incidents() const noexcept { return m_open.size(); }
    [[nodiscard]] core::Millis stream_now() const noexcept { return m_stream_now; }
    [[nodiscard]] const TrackerCounters& counters() const noexcept { return m_counters; }
    [[nodiscard]] const TrackerOptions& options() const noexcept { return m_options; }

private:
    void advance(core::Millis stream_now, std::vector<Event>& out);
    void resolve(Incident& inc, core::Millis ts, std::vector<Event>& out);
    void update_deadline() noexcept;

    TrackerOptions m_options;
    std::unordered_map<std::string, Incident> m_open; // by device
    core::Millis m_stream_now = 0;
    core::Millis m_next_deadline = 0; // earliest last_ts + quiet among open incidents, 0: none
    TrackerCounters m_counters;
};

} // namespace iots::alert
