#include "iotshield/store/windows.hpp"

#include "iotshield/store/raw_scan.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>

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

namespace {

// SQLite's sum() of doubles: Kahan-Babuska-Neumaier since 3.43, plain before, so that the sums
// are the ones the query gave before compaction (the same on every file, compacted or not).
struct Sum {
    double sum = 0, err = 0;
    bool compensated = sqlite3_libversion_number() >= 3043000;
    void add(double x) {
        if (!compensated) {
            sum += x;
            return;
        }
        const double t = sum + x;
        if (std::fabs(sum) > std::fabs(x))
            err += (sum - t) + x;
        else
            err += (x - t) + sum;
        sum = t;
    }
    [[nodiscard]] double value() const { return sum + err; }
};

} // namespace

std::vector<WindowSums> window_sums(Database& db, const SeriesName& series, core::Millis since,
                                    core::Millis until, core::Millis window_ms, double lo,
                                    double hi) {
    Statement q = db.prepare("SELECT x.id FROM series x JOIN devices d ON d.id = x.device_id"
                             " JOIN sensors s ON s.id = x.sensor_id WHERE d.name = ?1 AND"
                             " s.name = ?2");
    q.bind(1, std::string_view(series.device)).bind(2, std::string_view(series.sensor));
    if (!q.step())
        return {};
    const std::int64_t id = q.column_int(0);
    q.reset();
    // One pass over the series' readings in time order (raw_scan.hpp).
    std::vector<WindowSums> out;
    Sum sum;
    std::int64_t current = -1;
    auto close = [&] {
        if (current >= 0)
            out.back().clamped_sum = sum.value();
    };
    scan_raw(
        db, id, since, until,
        [&](const ChunkRow& r) {
            const std::int64_t w = (r.ts - since) / window_ms;
            if (w != current) {
                close();
                current = w;
                sum = Sum{};
                out.push_back({since + w * window_ms, 0, 0, r.value, r.value, 0});
            }
            WindowSums& x = out.back();
            ++x.count;
            sum.add(std::max(lo, std::min(hi, r.value)));
            x.min = std::min(x.min, r.value);
            x.max = std::max(x.max, r.value);
            if (r.value != 0)
                ++x.nonzero;
            return true;
        },
        ChunkFields::keys_values);
    close();
    return out;
}

} // namespace iots::store
