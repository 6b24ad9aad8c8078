#include "iotsfw/topics.hpp"

namespace iots::fw {

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
std::string control_topic(std::string_view prefix, std::string_view device) {
    return join(prefix, "control", device);
}
std::string ack_topic(std::string_view prefix, std::string_view device) {
    return join(prefix, "control", device, "ack");
}
std::string fault_topic(std::string_view prefix, std::string_view device) {
    return join(prefix, "faults", device);
}

bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > 64)
        return false;
    for (const char c : name) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

} // namespace iots::fw
