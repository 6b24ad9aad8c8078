#include "iotshield/store/commands.hpp"

namespace iots::store {

// Opened even when the file is read-only: the dashboard still reads, and a write says why it fails.
Commands::Commands(const std::string& path) : m_db(path, OpenOptions{.require_write = false}) {
    m_insert = m_db.prepare("INSERT INTO commands (id, ts, device, actuator, action, status) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, 'sent')");
    m_ack =
        m_db.prepare("UPDATE commands SET status = ?2, ack_ts = ?3, latency_ms = max(0, ?3 - ts) "
                     "WHERE id = ?1 AND status IN ('sent', 'timeout')");
    m_oldest_sent = m_db.prepare("SELECT min(ts) FROM commands WHERE status = 'sent'");
    m_time_out = m_db.prepare(std::string("UPDATE commands SET status = 'timeout' WHERE status = "
                                          "'sent' AND ts <= ?1 RETURNING ") +
                              kCommandColumns);
    m_get = m_db.prepare(std::string("SELECT ") + kCommandSelect + "WHERE id = ?1");
    m_alert_status = m_db.prepare("UPDATE alerts SET status = ?2, updated_ts = max(?3, "
                                  "coalesce(updated_ts, ts) + 1) WHERE id = ?1");
}

void Commands::insert_command(const CommandRow& c) {
    m_insert.bind(1, std::string_view(c.id))
        .bind(2, c.ts)
        .bind(3, std::string_view(c.device))
        .bind(4, std::string_view(c.actuator))
        .bind(5, std::string_view(c.action));
    m_insert.run();
}

std::optional<CommandRow> Commands::record_ack(const std::string& id, const std::string& status,
                                               std::int64_t ack_ts) {
    m_ack.bind(1, std::string_view(id)).bind(2, std::string_view(status)).bind(3, ack_ts);
    m_ack.run();
    return command(id);
}

std::optional<std::int64_t> Commands::oldest_sent() {
    std::optional<std::int64_t> out;
    try {
        if (m_oldest_sent.step() && !m_oldest_sent.is_null(0))
            out = m_oldest_sent.column_int(0);
    } catch (...) {
        m_oldest_sent.reset();
        throw;
    }
    m_oldest_sent.reset();
    return out;
}

std::vector<CommandRow> Commands::time_out(std::int64_t sent_before) {
    m_time_out.bind(1, sent_before);
    std::vector<CommandRow> out;
    try {
        while (m_time_out.step())
            out.push_back(command_row(m_time_out));
    } catch (...) {
        m_time_out.reset();
        throw;
    }
    m_time_out.reset();
    return out;
}

std::optional<CommandRow> Commands::command(const std::string& id) {
    m_get.bind(1, std::string_view(id));
    std::optional<CommandRow> out;
    try {
        if (m_get.step())
            out = command_row(m_get);
    } catch (...) {
        m_get.reset();
        throw;
    }
    m_get.reset();
    return out;
}

bool Commands::set_alert_status(const std::string& id, const std::string& status,
                                std::int64_t now_ms) {
    m_alert_status.bind(1, std::string_view(id)).bind(2, std::string_view(status)).bind(3, now_ms);
    return m_alert_status.run() > 0;
}

} // namespace iots::store
