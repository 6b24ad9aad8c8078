#include "iotshield/train/history.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/input/lines.hpp"
#include "iotshield/record/parser.hpp"
#include "iotshield/store/database.hpp"

#include <algorithm>
#include <functional>
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

// Every valid reading of stdin to `each` (the Reading is reused between calls).
class Readings final : public input::Handler {
public:
    Readings(input::Rejects& rejects, std::function<void(const record::Reading&)> each)
        : m_rejects(rejects), m_each(std::move(each)) {}

    bool record(std::string_view text, const input::Origin& origin) override {
        if (m_parser.parse(text, m_r))
            m_each(m_r);
        else
            m_rejects.reject(origin, m_parser.error());
        return true;
    }

private:
    input::Rejects& m_rejects;
    std::function<void(const record::Reading&)> m_each;
    record::Parser m_parser;
    record::Reading m_r;
};

} // namespace

History read_history(const std::string& db_path, const store::HistoryFilter& filter,
                     const core::RejectPolicy& policy, const core::Logger& log) {
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
        input::Rejects rejects(policy, log);
        Readings readings(rejects, [&](const record::Reading& r) {
            if (!r.label.empty() && r.label != "normal")
                ++out.left_out;
            else if (kept(filter, r))
                add(r);
        });
        // A model of part of the history is no model to write.
        if (input::read_lines(0, rejects, readings) == input::End::stop)
            throw Error(Exit::failure, "interrupted: no model written");
        out.rejected = rejects.count();
    }
    for (auto& [key, h] : series) {
        out.rows += h.ts.size();
        out.series.push_back(std::move(h));
    }
    return out;
}

} // namespace iots::train
