#include "iotshield/score/summary.hpp"

#include <fmt/format.h>

#include <string>

namespace iots::score {

void log_counters(const Session& s) {
    s.log.info("read {}, anomalies {}, rejected {}", s.counts.read, s.counts.anomalies,
               s.rejects.count());
}

void log_summary(const Session& s) {
    const Counts& n = s.counts;
    const std::uint64_t bad = s.rejects.count();
    s.log.info("read {}, scored {}, anomalies {}, rejected {}, series {}{}{}", n.read, n.read - bad,
               n.anomalies, bad, s.detector.series_count(),
               s.store ? fmt::format(", stored scores {} (late {}, not in database {})",
                                     s.store->counts().updated, s.store->counts().late,
                                     s.store->counts().unmatched)
                       : std::string(),
               s.state && s.state->failures() > 0
                   ? fmt::format(", state writes failed {}", s.state->failures())
                   : std::string());
}

} // namespace iots::score
