#pragma once
// The few writes iots-serve makes: commands sent to actuators, their acknowledgements and timeouts,
// and the status of alerts (acknowledged, resolved) changed from the dashboard. Each is one short
// transaction on its own read-write connection; not thread-safe (the server serialises them).
#include "iotshield/store/database.hpp"
#include "iotshield/store/rows.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace iots::store {

class Commands {
public:
    // Opens (creating and migrating if needed) the database read-write.
    explicit Commands(const std::string& path);

    // Stores a command with status "sent". Throws on a duplicate id.
    void insert_command(const CommandRow& c);
    // Records the device's answer: status done|failed, ack_ts, latency = ack_ts - ts (never below
    // 0), also to a command that timed out (a late answer replaces "timeout"). Returns the updated
    // row, or nullopt for an unknown id. A second answer is ignored (the first one wins) and
    // returns the row unchanged.
    std::optional<CommandRow> record_ack(const std::string& id, const std::string& status,
                                         std::int64_t ack_ts);
    // The time (ts) of the oldest command still "sent", or nullopt if none is.
    [[nodiscard]] std::optional<std::int64_t> oldest_sent();
    // Every command still "sent" with ts <= sent_before becomes "timeout"; returns them so.
    std::vector<CommandRow> time_out(std::int64_t sent_before);
    // The command with this id, or nullopt.
    [[nodiscard]] std::optional<CommandRow> command(const std::string& id);
    // new -> acknowledged -> resolved; returns false for an unknown id. Sets updated_ts.
    bool set_alert_status(const std::string& id, const std::string& status, std::int64_t now_ms);

    [[nodiscard]] Database& database() noexcept { return m_db; }

private:
    Database m_db;
    Statement m_insert, m_ack, m_get, m_alert_status, m_oldest_sent, m_time_out;
};

} // namespace iots::store
