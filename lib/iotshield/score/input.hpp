#pragma once
// Where iots-detect's readings come from and what becomes of an invalid one: the lines of stdin,
// the messages of the broker's sensor topics, and the rule of --strict and --max-bad-lines. The
// one place of the service that reads input, to be replaced by a shared input driver and reject
// policy (issue 16); the rest of the service sees only Handler, Origin and Rejects.
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/mqtt/client.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace iots::score {

// Where a record came from, named in diagnostics ("line 17", "topic a/b"), built only for one.
class Origin {
public:
    static Origin line(std::uint64_t number) noexcept { return Origin(number, {}, false); }
    static Origin topic(std::string_view topic) noexcept { return Origin(0, topic, true); }
    [[nodiscard]] std::string describe() const;

private:
    Origin(std::uint64_t line, std::string_view topic, bool is_topic) noexcept
        : m_line(line), m_topic(topic), m_is_topic(is_topic) {}
    std::uint64_t m_line;
    std::string_view m_topic;
    bool m_is_topic;
};

// What the service gives the input.
class Handler {
public:
    Handler() = default;
    virtual ~Handler() = default;
    Handler(const Handler&) = delete;
    Handler& operator=(const Handler&) = delete;

    // One record: a line of stdin, or an MQTT payload (on the network thread).
    virtual void record(std::string_view text, const Origin& origin) = 0;
    // A line too long to be read, told before it is rejected.
    virtual void skipped(const Origin& origin) = 0;
    // stdin: every 1024 lines and whenever the input paused (`paused`: the next read may wait).
    virtual void poll(bool paused) = 0;
};

// --strict and --max-bad-lines. Not thread-safe: the handler serialises its calls.
class Rejects {
public:
    Rejects(const core::Logger& log, bool strict, std::uint64_t max_bad)
        : m_log(log), m_strict(strict), m_max_bad(max_bad) {}
    // Warns; throws Error(bad_input) at the first (--strict) or past --max-bad-lines.
    void reject(const Origin& origin, std::string_view why);
    [[nodiscard]] std::uint64_t count() const noexcept { return m_count; }

private:
    const core::Logger& m_log;
    bool m_strict;
    std::uint64_t m_max_bad;
    std::uint64_t m_count = 0;
};

// Lines of stdin until its end or SIGINT/SIGTERM.
void read_stdin(Handler& handler, Rejects& rejects);

// Hands every message of <prefix>/sensors/# to handler.record() on the network thread (none once
// SIGINT/SIGTERM asked to stop), connects and subscribes.
void subscribe_readings(mqtt::Client& client, const core::BrokerOptions& broker, Handler& handler);

} // namespace iots::score
