#include "iotshield/ingest/ingest.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/ingest/sources.hpp"
#include "iotshield/mqtt/topics.hpp"

#include <fmt/format.h>

namespace iots::ingest {

std::string format_counters(const Counters& c) {
    std::string s = fmt::format("received {}, stored {}, rejected {}, duplicates {}", c.received,
                                c.stored, c.rejected, c.duplicates);
    if (c.status > 0)
        s += fmt::format(", status {}", c.status);
    if (c.ignored > 0)
        s += fmt::format(", ignored {}", c.ignored);
    if (c.stamped > 0)
        s += fmt::format(", stamped {}", c.stamped);
    if (c.dropped > 0)
        s += fmt::format(", dropped {}", c.dropped);
    return s;
}

std::vector<std::string> default_topics(std::string_view prefix, adapt::Format format) {
    return adapt::subscriptions(format, prefix);
}

int run(const Options& options, const core::Logger& log, core::LineWriter& out) {
    Pipeline pipeline(options, log, out);
    try {
        if (options.broker.enabled())
            run_mqtt(options, pipeline, log);
        else
            run_stdin(options, pipeline);
    } catch (const Error&) {
        pipeline.report_counters(); // what was stored before the error (database, input, 65)
        throw;
    }
    pipeline.report_counters();
    return 0;
}

} // namespace iots::ingest
