#pragma once
// Detection's side of the database: training history out, scores and anomalies back in. Only
// the tables of schema.hpp; no schema of its own.
#include "iotshield/core/time.hpp"
#include "iotshield/record/reading.hpp"
#include "iotshield/store/database.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace iots::store {

struct HistoryFilter {
    std::optional<core::Millis> since; // ts >= since
    std::optional<core::Millis> until; // ts < until
    std::vector<std::string> devices;  // empty: all
    std::vector<std::string> sensors;  // empty: all
};

struct HistoryCounts {
    std::uint64_t rows = 0;      // handed to the callback
    std::uint64_t incidents = 0; // left out: labelled with an incident kind
};

// Stored readings in series order, then time order, leaving out readings labelled as incidents
// (a label present and not "normal"). The Reading passed is reused between calls.
HistoryCounts read_history(Database& db, const HistoryFilter& filter,
                           const std::function<void(const record::Reading&)>& each);

struct ScoreCounts {
    std::uint64_t updated = 0;   // stored readings that got their score
    std::uint64_t unmatched = 0; // scored readings not (yet) in the database
    std::uint64_t anomalies = 0; // rows added to `anomalies`
};

// Writes score and anomaly onto the stored reading (series, ts and seq when present) and adds a
// row to `anomalies` per flagged reading, in transactions of up to `batch` readings. A series the
// database has not seen yet is created, so that its anomalies have somewhere to belong.
class ScoreWriter {
public:
    explicit ScoreWriter(Database& db, std::size_t batch = 1000);
    ~ScoreWriter(); // commits what is pending; errors are swallowed here, call commit() to see them
    ScoreWriter(const ScoreWriter&) = delete;
    ScoreWriter& operator=(const ScoreWriter&) = delete;

    void write(const record::Reading& r);
    void commit();
    [[nodiscard]] std::size_t pending() const noexcept { return m_pending; }
    [[nodiscard]] const ScoreCounts& counts() const noexcept { return m_counts; }

private:
    std::int64_t series_id(const record::Reading& r);

    Database& m_db;
    std::size_t m_batch;
    std::size_t m_pending = 0;
    std::optional<Transaction> m_tx;
    Statement m_find, m_add_device, m_add_sensor, m_add_series, m_update, m_add_anomaly,
        m_count_anomaly;
    std::unordered_map<std::string, std::int64_t> m_ids;
    std::string m_key;
    std::string m_reasons;
    ScoreCounts m_counts;
};

} // namespace iots::store
