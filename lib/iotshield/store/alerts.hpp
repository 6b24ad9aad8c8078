#pragma once
// The `alerts` table (schema.hpp): one row per alert id. The rules text is written once, in
// rules_*; title/description/suggestion hold what is shown, and a language-model update replaces
// only those (and may raise the severity), so the dashboard can show both side by side.
#include "iotshield/core/time.hpp"
#include "iotshield/store/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace iots::store {

struct AlertRow {
    std::string id;
    core::Millis ts = 0;
    core::Millis updated_ts = 0;
    std::string device;
    std::string sensor;
    std::string severity;
    std::string title, description, suggestion;
    std::string rules_title, rules_description, rules_suggestion;
    std::optional<double> value;
    std::optional<double> score;
    std::string incident;
    std::string source = "rules";
    std::string status = "new"; // new | acknowledged | resolved
    std::string json;           // the alert record as sent
};

class AlertStore {
public:
    explicit AlertStore(Database& db);

    // Inserts the alert; the same id again (a replayed stream) replaces its row but keeps an
    // acknowledgement made in the meantime.
    void insert(const AlertRow& row);
    // A later text for the same id: title/description/suggestion, severity, source, json,
    // updated_ts. False if the id is unknown.
    bool update_text(const AlertRow& row);
    // Marks one alert `resolved` if it is still `new` (by primary key: fast at any table size).
    bool resolve(const std::string& id, core::Millis ts);
    // Marks the incident's earlier alerts that are still `new` as `resolved`; returns how many.
    // By the alerts_by_incident index.
    int resolve_incident(const std::string& incident, core::Millis ts);

    [[nodiscard]] std::optional<AlertRow> get(const std::string& id);
    [[nodiscard]] std::vector<AlertRow> recent(int limit);

private:
    Database& m_db;
    Statement m_insert;
    Statement m_update;
    Statement m_resolve;
    Statement m_resolve_id;
};

} // namespace iots::store
