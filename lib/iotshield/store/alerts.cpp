#include "iotshield/store/alerts.hpp"

namespace iots::store {

AlertStore::AlertStore(Database& db)
    : m_db(db),
      m_insert(db.prepare(
          "INSERT INTO alerts (id, ts, updated_ts, device, sensor, severity, title, description, "
          "suggestion, rules_title, rules_description, rules_suggestion, value, score, incident, "
          "source, status, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
          "?14, ?15, ?16, ?17, ?18) ON CONFLICT(id) DO UPDATE SET ts = excluded.ts, "
          "updated_ts = excluded.updated_ts, device = excluded.device, sensor = excluded.sensor, "
          "severity = excluded.severity, title = excluded.title, description = "
          "excluded.description, suggestion = excluded.suggestion, rules_title = "
          "excluded.rules_title, rules_description = excluded.rules_description, "
          "rules_suggestion = excluded.rules_suggestion, value = excluded.value, score = "
          "excluded.score, incident = excluded.incident, source = excluded.source, status = "
          "CASE WHEN alerts.status = 'acknowledged' THEN alerts.status ELSE excluded.status END, "
          "json = excluded.json")),
      m_update(db.prepare("UPDATE alerts SET title = ?2, description = ?3, suggestion = ?4, "
                          "severity = ?5, source = ?6, json = ?7, updated_ts = ?8 WHERE id = ?1")),
      m_resolve(db.prepare("UPDATE alerts SET status = 'resolved', updated_ts = ?2 "
                           "WHERE incident = ?1 AND status = 'new'")),
      m_resolve_id(db.prepare("UPDATE alerts SET status = 'resolved', updated_ts = ?2 "
                              "WHERE id = ?1 AND status = 'new'")) {}

bool AlertStore::resolve(const std::string& id, core::Millis ts) {
    m_resolve_id.bind(1, std::string_view(id)).bind(2, std::int64_t{ts});
    return m_resolve_id.run() > 0;
}

void AlertStore::insert(const AlertRow& r) {
    m_insert.bind(1, std::string_view(r.id))
        .bind(2, std::int64_t{r.ts})
        .bind(3, r.updated_ts.value_or(r.ts))
        .bind(4, std::string_view(r.device))
        .bind(5, std::string_view(r.sensor))
        .bind(6, std::string_view(r.severity))
        .bind(7, std::string_view(r.title))
        .bind(8, std::string_view(r.description))
        .bind(9, std::string_view(r.suggestion))
        .bind(10, std::string_view(r.rules_title))
        .bind(11, std::string_view(r.rules_description))
        .bind(12, std::string_view(r.rules_suggestion))
        .bind(13, r.value)
        .bind(14, r.score)
        .bind(15, std::string_view(r.incident))
        .bind(16, std::string_view(r.source))
        .bind(17, std::string_view(r.status))
        .bind(18, std::string_view(r.json));
    m_insert.run();
}

bool AlertStore::update_text(const AlertRow& r) {
    m_update.bind(1, std::string_view(r.id))
        .bind(2, std::string_view(r.title))
        .bind(3, std::string_view(r.description))
        .bind(4, std::string_view(r.suggestion))
        .bind(5, std::string_view(r.severity))
        .bind(6, std::string_view(r.source))
        .bind(7, std::string_view(r.json))
        .bind(8, r.updated_ts.value_or(0));
    return m_update.run() > 0;
}

int AlertStore::resolve_incident(const std::string& incident, core::Millis ts) {
    m_resolve.bind(1, std::string_view(incident)).bind(2, std::int64_t{ts});
    return m_resolve.run();
}

std::optional<AlertRow> AlertStore::get(const std::string& id) {
    auto s = m_db.prepare(std::string("SELECT ") + kAlertSelect + "WHERE id = ?1");
    s.bind(1, std::string_view(id));
    if (!s.step())
        return std::nullopt;
    return alert_row(s);
}

std::vector<AlertRow> AlertStore::recent(int limit) {
    auto s =
        m_db.prepare(std::string("SELECT ") + kAlertSelect + "ORDER BY ts DESC, id DESC LIMIT ?1");
    s.bind(1, std::int64_t{limit});
    std::vector<AlertRow> out;
    while (s.step())
        out.push_back(alert_row(s));
    return out;
}

} // namespace iots::store
