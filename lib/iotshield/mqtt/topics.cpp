#include "iotshield/mqtt/client.hpp"

namespace iots::mqtt {

namespace {
std::string join(std::string_view prefix, std::string_view kind, std::string_view a,
                 std::string_view b = {}) {
    std::string t;
    t.reserve(prefix.size() + kind.size() + a.size() + b.size() + 3);
    t.append(prefix).append("/").append(kind).append("/").append(a);
    if (!b.empty())
        t.append("/").append(b);
    return t;
}
} // namespace

std::string sensor_topic(std::string_view prefix, std::string_view device,
                         std::string_view sensor) {
    return join(prefix, "sensors", device, sensor);
}
std::string status_topic(std::string_view prefix, std::string_view device) {
    return join(prefix, "status", device);
}
std::string anomaly_topic(std::string_view prefix, std::string_view device,
                          std::string_view sensor) {
    return join(prefix, "anomalies", device, sensor);
}
std::string alert_topic(std::string_view prefix, std::string_view device) {
    return join(prefix, "alerts", device);
}
std::string control_topic(std::string_view prefix, std::string_view device) {
    return join(prefix, "control", device);
}

} // namespace iots::mqtt
