#include "iotshield/store/rows.hpp"

namespace iots::store {

std::optional<std::int64_t> opt_int(const Statement& st, int col) {
    if (st.is_null(col))
        return std::nullopt;
    return st.column_int(col);
}

const char* const kAlertSelect =
    "rowid, id, ts, updated_ts, device, coalesce(sensor, ''), severity, title, "
    "coalesce(description, ''), coalesce(suggestion, ''), coalesce(rules_title, ''), "
    "coalesce(rules_description, ''), coalesce(rules_suggestion, ''), value, score, "
    "coalesce(incident, ''), coalesce(source, ''), status, coalesce(json, '') FROM alerts ";

AlertRow alert_row(const Statement& st) {
    AlertRow a;
    a.rowid = st.column_int(0);
    a.id = st.column_text(1);
    a.ts = st.column_int(2);
    a.updated_ts = opt_int(st, 3);
    a.device = st.column_text(4);
    a.sensor = st.column_text(5);
    a.severity = st.column_text(6);
    a.title = st.column_text(7);
    a.description = st.column_text(8);
    a.suggestion = st.column_text(9);
    a.rules_title = st.column_text(10);
    a.rules_description = st.column_text(11);
    a.rules_suggestion = st.column_text(12);
    a.value = st.column_optional_double(13);
    a.score = st.column_optional_double(14);
    a.incident = st.column_text(15);
    a.source = st.column_text(16);
    a.status = st.column_text(17);
    a.json = st.column_text(18);
    return a;
}

const char* const kCommandSelect =
    "id, ts, device, actuator, action, status, ack_ts, latency_ms FROM commands ";
const char* const kCommandColumns = "id, ts, device, actuator, action, status, ack_ts, latency_ms";

CommandRow command_row(const Statement& st) {
    CommandRow c;
    c.id = st.column_text(0);
    c.ts = st.column_int(1);
    c.device = st.column_text(2);
    c.actuator = st.column_text(3);
    c.action = st.column_text(4);
    c.status = st.column_text(5);
    c.ack_ts = opt_int(st, 6);
    c.latency_ms = opt_int(st, 7);
    return c;
}

} // namespace iots::store
