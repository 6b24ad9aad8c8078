#include "iotshield/train/history.hpp"

#include "iotshield/store/database.hpp"
#include "iotshield/train/input.hpp"

#include <algorithm>
#include <map>
#include <utility>

namespace iots::train {
namespace {

bool wanted(const std::vector<std::string>& list, const std::string& v) {
    return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
}

// The database applies the filter and leaves incidents out in its query; stdin is filtered here.
bool kept(const store::HistoryFilter& filter, const record::Reading& r) {
    return (!filter.since || r.ts >= *filter.since) && (!filter.until || r.ts < *filter.until) &&
           wanted(filter.devices, r.device) && wanted(filter.sensors, r.sensor);
}

} // namespace

History read_history(const std::string& db_path, const store::HistoryFilter& filter,
                     const core::Logger& log) {
    History out;
    std::map<std::pair<std::string, std::string>, detect::History> series;
    auto add = [&](const record::Reading& r) {
        auto& h = series[{r.device, r.sensor}];
        if (h.ts.empty()) {
            h.device = r.device;
            h.sensor = r.sensor;
        }
        h.ts.push_back(r.ts);
        h.values.push_back(r.value);
    };
    if (!db_path.empty()) {
        store::Database db(db_path, store::OpenOptions{true, false, 5000});
        out.left_out = store::read_history(db, filter, add).incidents;
    } else {
        out.rejected = read_stdin(log, [&](const record::Reading& r) {
            if (!r.label.empty() && r.label != "normal")
                ++out.left_out;
            else if (kept(filter, r))
                add(r);
        });
    }
    for (auto& [key, h] : series) {
        out.rows += h.ts.size();
        out.series.push_back(std::move(h));
    }
    return out;
}

} // namespace iots::train
