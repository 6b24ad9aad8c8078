#pragma once
// The few writes iots-serve makes: commands sent to actuators and their acknowledgements, and the
// status of alerts (acknowledged, resolved) changed from the dashboard. Each is one short
// transaction on its own read-write connection; not thread-safe (the server serialises them).
#include "iotshield/store/database.hpp"
#include "iotshield/store/rows.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace iots::store {

class Commands {
public:
    // Opens (creating and migrating if needed) the database read-write.
    explicit Commands(const std::string& path);

    // Stores a command with status "sent". Throws on a duplicate id.
    void insert_command(const CommandRow& c);
    // Records the device's answer: status done|failed, ack_ts, latency = ack_ts - ts (never below
    // 0). Returns the updated row, or nullopt for an unknown id. A second answer is ignored (the
    // first one wins) and returns the row unchanged.
    std::optional<CommandRow> record_ack(const std::string& id, const std::string& status,
                                         std::int64_t ack_ts);
    // The command with this id, or nullopt.
    [[nodiscard]] std::optional<CommandRow> command(const std::string& id);
    // new -> acknowledged -> resolved; returns false for an unknown id. Sets updated_ts.
    bool set_alert_status(const std::string& id, const std::string& status, std::int64_t now_ms);

    [[nodiscard]] Database& database() noexcept { return m_db; }

private:
    Database m_db;
    Statement m_insert, m_ack, m_get, m_alert_status;
};

} // namespace iots::store
