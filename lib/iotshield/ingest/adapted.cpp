#include "iotshield/ingest/sources.hpp"

namespace iots::ingest {

bool feed(Pipeline& pipeline, const adapt::Result& result, const Origin& origin, core::Millis now,
          core::Millis wall, bool retained) {
    switch (result.kind) {
    case adapt::Kind::native:
        return false;
    case adapt::Kind::status:
        pipeline.status(result.device, result.status, origin, wall, now);
        return true;
    case adapt::Kind::ignored:
        pipeline.ignored();
        return true;
    case adapt::Kind::readings:
        break;
    }
    for (const auto& problem : result.problems)
        pipeline.bad(origin, problem);
    if (retained && !result.own_time) {
        if (!result.readings.empty())
            pipeline.ignored();
        return true;
    }
    for (const auto& r : result.readings)
        pipeline.adapted(r, origin, now, wall);
    return true;
}

} // namespace iots::ingest
