#include "iotshield/record/reading.hpp"

namespace iots::record {

void Reading::clear() noexcept {
    ts = 0;
    device.clear();
    sensor.clear();
    value = 0;
    seq.reset();
    unit.clear();
    location.clear();
    label.clear();
    score.reset();
    anomaly.reset();
    reasons.clear();
    extra.clear();
}

} // namespace iots::record
