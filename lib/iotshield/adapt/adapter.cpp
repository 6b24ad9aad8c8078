#include "iotshield/adapt/adapter.hpp"

#include "iotshield/adapt/formats.hpp"
#include "iotshield/adapt/topics.hpp"
#include "iotshield/core/error.hpp"

#include <cstdlib>
#include <filesystem>

namespace iots::adapt {

void Result::clear() noexcept {
    kind = Kind::ignored;
    format = Format::iotshield;
    topic = {};
    payload = {};
    readings.clear();
    problems.clear();
    own_time = false;
    device.clear();
    status.clear();
}

namespace {

record::ParseOptions seed_parse_options() {
    record::ParseOptions o;
    o.check_ranges = false; // after °F -> °C
    o.accept_legacy = true;
    return o;
}

bool contains(std::string_view s, std::string_view what) {
    return s.find(what) != std::string_view::npos;
}

// --format auto on a topic it does not know (a -t of the user's): the payload's shape.
std::optional<Format> format_of_payload(std::string_view payload) {
    const auto start = payload.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos || payload[start] != '{')
        return std::nullopt;
    if (contains(payload, "\"sensor_type\""))
        return Format::seed;
    if (contains(payload, "\"sensor\"") && contains(payload, "\"value\""))
        return Format::iotshield;
    return std::nullopt;
}

void set_status(Result& out, std::string_view device, std::string_view payload) {
    const std::string name = detail::safe_name(device);
    const std::string_view word = detail::status_word(payload);
    if (name.empty()) {
        out.kind = Kind::readings; // a problem, counted as a rejected record
        out.problems.emplace_back("status: no device name in the topic");
        return;
    }
    if (word.empty()) {
        out.kind = Kind::readings;
        out.problems.push_back("status: expected online or offline, got " +
                               detail::quote_text(payload));
        return;
    }
    out.kind = Kind::status;
    out.device = name;
    out.status = word;
}

} // namespace

Adapter::Adapter(Options options) : m_options(std::move(options)), m_parser(seed_parse_options()) {}

void Adapter::adapt(std::string_view topic, std::string_view payload, core::Millis wall,
                    Result& out) {
    out.clear();
    out.topic = topic;
    out.payload = payload;
    Format format = m_options.format;
    if (format == Format::automatic) {
        auto f = topic.empty() ? std::nullopt : format_of_topic(topic, m_options.prefix);
        if (!f)
            f = format_of_payload(payload);
        if (!f)
            return; // ignored: none of ours
        format = *f;
    }
    dispatch(format, topic, payload, wall, out);
}

void Adapter::adapt_line(std::string_view line, core::Millis wall, Result& out) {
    const auto start = line.find_first_not_of(" \t");
    if (start != std::string_view::npos && line[start] == '{')
        return adapt({}, line, wall, out);
    const auto space = line.find(' ');
    if (space == std::string_view::npos)
        return adapt(line, {}, wall, out); // a topic with an empty payload
    return adapt(line.substr(0, space), line.substr(space + 1), wall, out);
}

void Adapter::dispatch(Format format, std::string_view topic, std::string_view payload,
                       core::Millis wall, Result& out) {
    out.format = format;
    switch (format) {
    case Format::automatic: // chosen by adapt()
    case Format::iotshield:
        out.kind = Kind::native;
        return;
    case Format::seed:
        detail::read_seed(m_parser, payload, out);
        return;
    case Format::zigbee2mqtt: {
        if (topic.empty()) {
            out.kind = Kind::readings;
            out.problems.emplace_back("zigbee2mqtt: no topic (the device is in the topic: "
                                      "`TOPIC PAYLOAD` lines, as mosquitto_sub -v prints)");
            return;
        }
        const Topic t = zigbee2mqtt_topic(topic);
        if (t.what == Topic::What::status) {
            // zigbee2mqtt 1.30 on: {"state":"online"}; before: online.
            std::string_view word = payload;
            std::string state;
            if (const auto j = nlohmann::json::parse(payload, nullptr, false);
                j.is_object() && j.contains("state") && j["state"].is_string()) {
                state = j["state"].get<std::string>();
                word = state;
            }
            return set_status(out, t.device, word);
        }
        if (t.what == Topic::What::reading)
            detail::read_zigbee2mqtt(t.device, payload, wall, out);
        return;
    }
    case Format::tasmota: {
        const Topic t = topic.empty() ? Topic{} : tasmota_topic(topic);
        if (topic.empty()) {
            out.kind = Kind::readings;
            out.problems.emplace_back("tasmota: no topic (the device is in the topic: "
                                      "`TOPIC PAYLOAD` lines, as mosquitto_sub -v prints)");
            return;
        }
        if (t.what == Topic::What::status)
            return set_status(out, t.device, payload);
        if (t.what == Topic::What::reading)
            detail::read_tasmota(t.device, payload, wall, m_options, out);
        return;
    }
    case Format::esphome: {
        if (topic.empty()) {
            out.kind = Kind::readings;
            out.problems.emplace_back("esphome: no topic (the device and sensor are in the "
                                      "topic: `TOPIC PAYLOAD` lines, as mosquitto_sub -v prints)");
            return;
        }
        const Topic t = esphome_topic(topic);
        if (t.what == Topic::What::status)
            return set_status(out, t.device, payload);
        if (t.what == Topic::What::reading)
            detail::read_esphome(t.device, t.object, t.binary, payload, wall, out);
        return;
    }
    }
}

core::Zone host_zone() {
    if (const char* tz = std::getenv("TZ"); tz != nullptr && *tz != '\0')
        return core::Zone::from_environment();
    std::error_code ec;
    const std::string path = std::filesystem::canonical("/etc/localtime", ec).string();
    constexpr std::string_view kZoneinfo = "/zoneinfo/";
    if (const auto at = path.find(kZoneinfo); !ec && at != std::string::npos) {
        try {
            return core::Zone::named(std::string_view(path).substr(at + kZoneinfo.size()));
        } catch (const Error&) {
            return core::Zone{}; // a link outside the tz database's names
        }
    }
    return core::Zone{};
}

std::optional<std::int32_t> parse_utc_offset(std::string_view text) noexcept {
    if (text == "Z" || text == "0" || text == "UTC")
        return 0;
    if (text.size() < 2 || (text[0] != '+' && text[0] != '-'))
        return std::nullopt;
    const int sign = text[0] == '-' ? -1 : 1;
    text.remove_prefix(1);
    auto digits = [](std::string_view s, int& v) {
        if (s.empty() || s.size() > 2)
            return false;
        v = 0;
        for (const char c : s) {
            if (c < '0' || c > '9')
                return false;
            v = v * 10 + (c - '0');
        }
        return true;
    };
    int h = 0, m = 0;
    std::string_view hh = text, mm;
    if (const auto colon = text.find(':'); colon != std::string_view::npos) {
        hh = text.substr(0, colon);
        mm = text.substr(colon + 1);
        if (mm.size() != 2)
            return std::nullopt;
    } else if (text.size() == 4) {
        hh = text.substr(0, 2);
        mm = text.substr(2);
    }
    if (!digits(hh, h) || (!mm.empty() && !digits(mm, m)) || m > 59 || h * 60 + m > 14 * 60)
        return std::nullopt;
    return sign * (h * 3600 + m * 60);
}

} // namespace iots::adapt

namespace iots::adapt {

void read_format_options(const std::string& format, const std::string& utc_offset,
                         const std::string& prefix, Options& options) {
    options.prefix = prefix;
    if (!format.empty()) {
        const auto f = parse_format(format);
        if (!f)
            throw Error(Exit::usage,
                        "--format: '" + format + "' is not one of " + std::string(kFormatNames));
        options.format = *f;
    }
    if (!utc_offset.empty()) {
        options.utc_offset_s = parse_utc_offset(utc_offset);
        if (!options.utc_offset_s)
            throw Error(Exit::usage, "--utc-offset: '" + utc_offset +
                                         "' is not an offset like +01:00 or -05:30");
    } else if (options.format == Format::tasmota || options.format == Format::automatic) {
        options.zone = host_zone();
    }
}

} // namespace iots::adapt
