#pragma once
// iots-alert's writes to the `alerts` table (schema.hpp; its row type in rows.hpp).
#include "iotshield/core/time.hpp"
#include "iotshield/store/database.hpp"
#include "iotshield/store/rows.hpp"

#include <optional>
#include <string>
#include <vector>

namespace iots::store {

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
