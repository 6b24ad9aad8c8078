#include "iotshield/store/windows.hpp"

namespace iots::store {

std::vector<SeriesName> all_series(Database& db) {
    Statement q = db.prepare("SELECT d.name, s.name FROM series r JOIN devices d ON d.id ="
                             " r.device_id JOIN sensors s ON s.id = r.sensor_id"
                             " ORDER BY d.name, s.name");
    std::vector<SeriesName> out;
    while (q.step())
        out.push_back({q.column_text(0), q.column_text(1)});
    return out;
}

std::vector<WindowSums> window_sums(Database& db, const SeriesName& series, core::Millis since,
                                    core::Millis until, core::Millis window_ms, double lo,
                                    double hi) {
    // One range scan of the series' primary key (series_id, ts).
    Statement q = db.prepare(
        "SELECT (r.ts - ?3) / ?5 AS w, count(*), sum(max(?6, min(?7, r.value))), min(r.value),"
        " max(r.value), sum(r.value != 0) FROM readings r"
        " WHERE r.series_id = (SELECT x.id FROM series x JOIN devices d ON d.id = x.device_id"
        "   JOIN sensors s ON s.id = x.sensor_id WHERE d.name = ?1 AND s.name = ?2)"
        " AND r.ts >= ?3 AND r.ts < ?4 GROUP BY w ORDER BY w");
    q.bind(1, std::string_view(series.device))
        .bind(2, std::string_view(series.sensor))
        .bind(3, std::int64_t{since})
        .bind(4, std::int64_t{until})
        .bind(5, std::int64_t{window_ms})
        .bind(6, lo)
        .bind(7, hi);
    std::vector<WindowSums> out;
    while (q.step())
        out.push_back({since + q.column_int(0) * window_ms, q.column_int(1), q.column_double(2),
                       q.column_double(3), q.column_double(4), q.column_int(5)});
    return out;
}

} // namespace iots::store
