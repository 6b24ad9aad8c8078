#include "iotshield/adapt/topics.hpp"

#include "iotshield/mqtt/topics.hpp"

#include <cstddef>

namespace iots::adapt {

namespace {

// Splits "a/b/c" into its levels (at most kMax; more: the rest stays in the last).
constexpr std::size_t kMaxLevels = 16;
struct Levels {
    std::string_view at[kMaxLevels];
    std::size_t n = 0;
};
Levels split(std::string_view topic) {
    Levels l;
    while (l.n + 1 < kMaxLevels) {
        const auto slash = topic.find('/');
        if (slash == std::string_view::npos)
            break;
        l.at[l.n++] = topic.substr(0, slash);
        topic.remove_prefix(slash + 1);
    }
    l.at[l.n++] = topic;
    return l;
}

// The part of topic before its last `count` levels ("a/b/c/d", 2 -> "a/b").
std::string_view drop_last(std::string_view topic, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        const auto slash = topic.rfind('/');
        if (slash == std::string_view::npos)
            return {};
        topic = topic.substr(0, slash);
    }
    return topic;
}

bool starts_with_level(std::string_view topic, std::string_view level) {
    return topic.size() > level.size() && topic.substr(0, level.size()) == level &&
           topic[level.size()] == '/';
}

} // namespace

std::vector<std::string> zigbee2mqtt_filters() {
    return {"zigbee2mqtt/#"};
}
std::vector<std::string> tasmota_filters() {
    return {"tele/+/SENSOR", "tele/+/LWT"};
}
std::vector<std::string> esphome_filters() {
    return {"+/sensor/+/state", "+/binary_sensor/+/state", "+/status"};
}

Topic zigbee2mqtt_topic(std::string_view topic) {
    Topic t;
    const auto slash = topic.find('/');
    if (slash == std::string_view::npos)
        return t;
    std::string_view name = topic.substr(slash + 1); // a friendly name may hold '/'
    if (name.empty() || name == "bridge" || starts_with_level(name, "bridge"))
        return t;
    const auto last = name.rfind('/');
    const std::string_view tail = last == std::string_view::npos ? name : name.substr(last + 1);
    if (last != std::string_view::npos && (tail == "set" || tail == "get"))
        return t;
    if (last != std::string_view::npos && tail == "availability") {
        t.what = Topic::What::status;
        t.device = name.substr(0, last);
        return t;
    }
    t.what = Topic::What::reading;
    t.device = name;
    return t;
}

Topic tasmota_topic(std::string_view topic) {
    Topic t;
    const Levels l = split(topic);
    if (l.n < 2)
        return t;
    const std::string_view last = l.at[l.n - 1];
    if (last != "SENSOR" && last != "LWT")
        return t;
    t.what = last == "SENSOR" ? Topic::What::reading : Topic::What::status;
    // tele/<topic>/SENSOR by default; a full topic of %topic%/%prefix%/ puts the topic first.
    t.device = l.at[l.n - 2];
    if (l.n >= 3 && l.at[l.n - 2] == "tele")
        t.device = l.at[l.n - 3];
    return t;
}

Topic esphome_topic(std::string_view topic) {
    Topic t;
    const Levels l = split(topic);
    if (l.n >= 2 && l.at[l.n - 1] == "status") {
        t.what = Topic::What::status;
        t.device = drop_last(topic, 1);
        return t;
    }
    if (l.n >= 4 && l.at[l.n - 1] == "state" &&
        (l.at[l.n - 3] == "sensor" || l.at[l.n - 3] == "binary_sensor")) {
        t.what = Topic::What::reading;
        t.device = drop_last(topic, 3);
        t.object = l.at[l.n - 2];
        t.binary = l.at[l.n - 3] == "binary_sensor";
    }
    return t;
}

std::optional<Format> format_of_topic(std::string_view topic, std::string_view prefix) {
    if (topic == mqtt::seed_topic(prefix))
        return Format::seed;
    if (starts_with_level(topic, prefix)) {
        const std::string_view rest = topic.substr(prefix.size() + 1);
        if (starts_with_level(rest, "sensors") || starts_with_level(rest, "status"))
            return Format::iotshield;
    }
    if (starts_with_level(topic, "zigbee2mqtt"))
        return Format::zigbee2mqtt;
    const Levels l = split(topic);
    if (l.n == 3 && l.at[0] == "tele" && (l.at[2] == "SENSOR" || l.at[2] == "LWT"))
        return Format::tasmota;
    if (l.n == 3 && l.at[0] == "tele")
        return Format::tasmota; // STATE, INFO1 ...: Tasmota's, not a reading (ignored)
    if (esphome_topic(topic).what != Topic::What::ignored)
        return Format::esphome;
    return std::nullopt;
}

} // namespace iots::adapt
