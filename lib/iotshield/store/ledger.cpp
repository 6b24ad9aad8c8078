#include "iotshield/store/ledger.hpp"

namespace iots::store {

Ledger::Ledger(Database& db)
    : m_db(db),
      m_spent(db.prepare("SELECT count(*), coalesce(sum(aggregates), 0), coalesce(sum(epsilon), 0),"
                         " coalesce(sum(delta), 0) FROM privacy_ledger"
                         " WHERE destination = ?1 AND day = ?2")),
      m_add(db.prepare("INSERT INTO privacy_ledger (destination, day, released_ts, release_id,"
                       " aggregates, epsilon, delta) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")) {}

DaySpent Ledger::spent(const std::string& destination, const std::string& day) {
    m_spent.bind(1, std::string_view(destination)).bind(2, std::string_view(day));
    DaySpent d{destination, day};
    if (m_spent.step()) {
        d.releases = m_spent.column_int(0);
        d.aggregates = m_spent.column_int(1);
        d.epsilon = m_spent.column_double(2);
        d.delta = m_spent.column_double(3);
    }
    m_spent.reset();
    return d;
}

void Ledger::add(const LedgerRow& row) {
    m_add.bind(1, std::string_view(row.destination))
        .bind(2, std::string_view(row.day))
        .bind(3, std::int64_t{row.released_ts})
        .bind(4, std::string_view(row.release_id))
        .bind(5, std::int64_t{row.aggregates})
        .bind(6, row.epsilon)
        .bind(7, row.delta);
    m_add.run();
}

std::vector<DaySpent> Ledger::report(const std::optional<std::string>& destination) {
    Statement q =
        m_db.prepare("SELECT destination, day, count(*), sum(aggregates), sum(epsilon), sum(delta)"
                     " FROM privacy_ledger WHERE ?1 IS NULL OR destination = ?1"
                     " GROUP BY destination, day ORDER BY destination, day");
    q.bind(1, destination);
    std::vector<DaySpent> out;
    while (q.step())
        out.push_back({q.column_text(0), q.column_text(1), q.column_int(2), q.column_int(3),
                       q.column_double(4), q.column_double(5)});
    return out;
}

std::string utc_day(core::Millis ts) {
    return core::format_rfc3339(ts).substr(0, 10);
}

} // namespace iots::store
