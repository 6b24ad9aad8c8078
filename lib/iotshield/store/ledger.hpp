#pragma once
// The privacy budget ledger (schema v3, privacy_ledger): what each release of iots-export spent,
// per destination and UTC day of the released data. Rows are only ever added; what a day has
// spent is their sum (basic composition). The check against the budget and the new rows belong in
// one write transaction (the caller's), so two exports cannot both spend the last of a day.
#include "iotshield/core/time.hpp"
#include "iotshield/store/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace iots::store {

struct LedgerRow {
    std::string destination;
    std::string day; // YYYY-MM-DD, UTC
    core::Millis released_ts = 0;
    std::string release_id;
    std::int64_t aggregates = 0; // values released about that day
    double epsilon = 0;
    double delta = 0;
};

// What one destination has been given about one day.
struct DaySpent {
    std::string destination;
    std::string day;
    std::int64_t releases = 0;
    std::int64_t aggregates = 0;
    double epsilon = 0;
    double delta = 0;
};

class Ledger {
public:
    explicit Ledger(Database& db);
    // The sums of one destination and day (zeros when nothing was released).
    [[nodiscard]] DaySpent spent(const std::string& destination, const std::string& day);
    // Adds a row; inside the caller's transaction.
    void add(const LedgerRow& row);
    // The sums per destination and day, in that order; only one destination when given.
    [[nodiscard]] std::vector<DaySpent> report(const std::optional<std::string>& destination);

private:
    Database& m_db;
    Statement m_spent, m_add;
};

// The UTC day of an instant, YYYY-MM-DD.
[[nodiscard]] std::string utc_day(core::Millis ts);

} // namespace iots::store
