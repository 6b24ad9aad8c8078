#include "iotshield/score/input.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/line_reader.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/mqtt/topics.hpp"

namespace iots::score {

std::string Origin::describe() const {
    if (m_is_topic)
        return "topic " + std::string(m_topic);
    return "line " + std::to_string(m_line);
}

void Rejects::reject(const Origin& origin, std::string_view why) {
    ++m_count;
    const std::string where = origin.describe();
    m_log.warn("{}: {}", where, why);
    if (m_strict || (m_max_bad > 0 && m_count > m_max_bad))
        throw Error(Exit::bad_input, where + ": " + std::string(why));
}

void read_stdin(Handler& handler, Rejects& rejects) {
    core::LineReader reader(0);
    while (!core::stop_requested()) {
        const auto st = reader.next();
        if (st == core::LineReader::Status::end)
            break;
        if (st == core::LineReader::Status::line) {
            handler.record(reader.line(), Origin::line(reader.line_number()));
        } else if (st == core::LineReader::Status::too_long) {
            const Origin origin = Origin::line(reader.line_number());
            handler.skipped(origin);
            rejects.reject(origin, "line too long");
        }
        // A part of a line buffered is no line: the input paused.
        const bool pause = !reader.ready();
        if (pause || (reader.line_number() & 1023U) == 0)
            handler.poll(pause);
    }
}

void subscribe_readings(mqtt::Client& client, const core::BrokerOptions& broker, Handler& handler) {
    client.on_message([&handler](const mqtt::Message& m) {
        if (core::stop_requested())
            return;
        handler.record(m.payload, Origin::topic(m.topic));
    });
    client.connect();
    client.subscribe(mqtt::sensors_filter(broker.topic_prefix), broker.qos);
}

} // namespace iots::score
