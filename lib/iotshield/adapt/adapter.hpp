#pragma once
// One (topic, payload) of a format (format.hpp) turned into zero or more readings, a device
// status, or nothing. The device comes from the topic where the payload names none; a payload
// without a time of its own is stamped with the time of receipt. Names and units are mapped to the
// kinds of DESIGN §2 (°F to °C, lx); a kind the project does not know keeps its own name (a
// generic numeric series). A bad part of a payload (not JSON, a value that is not a number, an
// unknown Tasmota driver) is one problem, with the reason the tool rejects it with; the other
// parts are still read.
#include "iotshield/adapt/format.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/core/zone.hpp"
#include "iotshield/record/parser.hpp"
#include "iotshield/record/reading.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iots::adapt {

struct Options {
    Format format = Format::iotshield;
    std::string prefix = "iotshield"; // --topic-prefix: the topics of IoTShield's own records
    // Tasmota's Time is local time with no zone: read with this fixed offset east of UTC in
    // seconds (--utc-offset), else in zone.
    std::optional<std::int32_t> utc_offset_s;
    core::Zone zone;
};

enum class Kind {
    native,   // an IoTShield record: the tool reads `payload` as it reads any other
    readings, // readings (and problems, one rejected record each)
    status,   // a device's online/offline
    ignored,  // not a reading (a bridge message, a light's state, a sensor that said nan)
};

struct Result {
    Kind kind = Kind::ignored;
    Format format = Format::iotshield; // the format that read it
    std::string_view topic;            // the message's topic (a line's, on stdin)
    std::string_view payload;          // the payload (native: the record to parse)
    std::vector<record::Reading> readings;
    std::vector<std::string> problems;
    bool own_time = false; // the readings' ts came with the payload (else: the time of receipt)
    std::string device;    // status
    std::string status;    // status: "online" or "offline"
    void clear() noexcept;
};

class Adapter {
public:
    explicit Adapter(Options options);

    // One MQTT message received at wall (epoch ms). out.readings keeps its buffers between calls.
    void adapt(std::string_view topic, std::string_view payload, core::Millis wall, Result& out);
    // One line of stdin: a bare record (a line that starts with '{'), or `TOPIC PAYLOAD` as
    // `mosquitto_sub -v` prints a message (the topic up to the first space).
    void adapt_line(std::string_view line, core::Millis wall, Result& out);

    [[nodiscard]] const Options& options() const noexcept { return m_options; }

private:
    void dispatch(Format format, std::string_view topic, std::string_view payload,
                  core::Millis wall, Result& out);
    Options m_options;
    record::Parser m_parser;
};

// The zone Tasmota's local times are read in when --utc-offset is not given: $TZ, else the zone
// /etc/localtime is a link to, else UTC. Throws Error(usage) for a TZ that names no zone.
[[nodiscard]] core::Zone host_zone();

// "+02:00", "-0530", "+2", "Z", "0" as seconds east of UTC (-14:00 to +14:00); nullopt otherwise.
[[nodiscard]] std::optional<std::int32_t> parse_utc_offset(std::string_view text) noexcept;

} // namespace iots::adapt

namespace iots::adapt {

// The tools' --format NAME and --utc-offset TEXT (empty: not given) into options, with prefix
// (--topic-prefix). The zone for Tasmota's times is looked up only when a format may need it.
// Throws Error(usage): "--format: 'x' is not one of auto|iotshield|...", "--utc-offset: '+25' is
// not an offset like +01:00 or -05:30".
void read_format_options(const std::string& format, const std::string& utc_offset,
                         const std::string& prefix, Options& options);

} // namespace iots::adapt
