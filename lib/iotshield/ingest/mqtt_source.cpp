#include "iotshield/core/signals.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/ingest/sources.hpp"
#include "iotshield/input/messages.hpp"
#include "iotshield/mqtt/client.hpp"

#include <algorithm>

namespace iots::ingest {

namespace {

std::string_view trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos)
        return {};
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Status messages to the device table, readings to the store; the input's limit and diagnostics
// come first (input::deliver).
class Dispatcher final : public input::Handler {
public:
    Dispatcher(const adapt::Options& adapt, Pipeline& pipeline)
        : m_topics(adapt.prefix), m_pipeline(pipeline), m_adapter(adapt) {}

    void handle(const mqtt::Message& m) {
        m_retained = m.retain;
        input::deliver(m, m_pipeline.rejects(), *this);
    }

    bool record(std::string_view payload, const input::Origin& from) override {
        const core::Millis now = monotonic_ms();
        Origin origin{.topic = from.topic};
        if (m_adapter.options().format != adapt::Format::iotshield) {
            m_adapter.adapt(from.topic, payload, core::now_millis(), m_result);
            if (feed(m_pipeline, m_result, origin, now, core::now_millis(), m_retained))
                return true;
        }
        if (const auto device = m_topics.status_device(from.topic)) {
            m_pipeline.status(*device, trim(payload), origin, core::now_millis(), now);
            return true;
        }
        if (const auto series = m_topics.sensor_series(from.topic)) { // not the seed's sensors/data
            origin.topic_device = series->device;
            origin.topic_sensor = series->sensor;
        }
        m_pipeline.reading(payload, origin, now, core::now_millis());
        return true;
    }
    void skipped(const input::Origin& /*origin*/) override { m_pipeline.skipped(); }

private:
    mqtt::TopicParser m_topics;
    Pipeline& m_pipeline;
    adapt::Adapter m_adapter;
    adapt::Result m_result;
    bool m_retained = false;
};

} // namespace

void run_mqtt(const Options& options, Pipeline& pipeline, const core::Logger& log) {
    input::BoundedQueue<mqtt::Message> queue(options.queue_messages);
    mqtt::Client client(options.broker, log);
    // Declared after the client, so destroyed before it: if we leave by an exception, a network
    // thread blocked on the full queue is let through before the client's disconnect joins it.
    struct CloseOnExit {
        input::BoundedQueue<mqtt::Message>& q;
        ~CloseOnExit() { q.close(); }
    } close_on_exit{queue};
    // A QoS>0 message is acknowledged to the broker only once it is committed (and passed on):
    // a crash loses none, the broker delivers them again and the store counts duplicates.
    client.hold_acknowledgements();
    client.on_message([&queue](const mqtt::Message& m) { queue.push(m); });
    client.connect();
    const auto filters = options.topics.empty()
                             ? default_topics(options.broker.topic_prefix, options.adapt.format)
                             : options.topics;
    // Without waiting for the answers: a persistent session's backlog arrives first, and only
    // this loop drains it. Under --share, readings are split over the group but every member takes
    // every status: it is its database's devices.status (with separate databases, a member that
    // missed a node's offline will would keep it online), and a shared subscription gets no
    // retained messages.
    const mqtt::TopicParser topics(options.broker.topic_prefix);
    for (const auto& filter : filters)
        client.subscribe_nowait(filter, options.broker.qos, !topics.is_status(filter));

    Dispatcher dispatch(options.adapt, pipeline);
    std::vector<mqtt::Message> messages;
    // Commits and releases what came so far; the broker sends at most its max_inflight_messages
    // more meanwhile, so this batches by itself.
    auto store_and_acknowledge = [&] {
        pipeline.sync();
        client.acknowledge(messages.back().seq);
    };
    while (!core::stop_requested()) {
        pipeline.check();
        client.check();
        if (core::take_counters_request())
            pipeline.report_counters();
        // Wake up at the batch deadline, and often enough to see a signal or a failure of the
        // store thread (a condition variable does not return on EINTR). Retention runs there.
        core::Millis wait = 200;
        if (const auto deadline = pipeline.deadline())
            wait = std::clamp<core::Millis>(*deadline - monotonic_ms(), 0, wait);
        if (queue.pop_all(messages, std::chrono::milliseconds(wait))) {
            bool held = false;
            for (const auto& m : messages) {
                dispatch.handle(m);
                held = held || m.qos > 0;
                if (pipeline.due(monotonic_ms()))
                    pipeline.commit();
            }
            if (held)
                store_and_acknowledge();
            else if (queue.empty() && pipeline.pending()) // the stream paused: commit now
                pipeline.commit();
        } else if (pipeline.pending()) {
            pipeline.commit();
        }
    }
    // Stop: store what was received and release it, so that the DISCONNECT carries its
    // acknowledgements; what arrives after that is stored too, but acknowledged only by being
    // delivered again (a duplicate) next time.
    queue.close(); // a network thread blocked on the full queue goes on
    auto store = [&] {
        for (const auto& m : messages)
            dispatch.handle(m);
        store_and_acknowledge();
    };
    // Once only: a flood must not hold up the stop.
    if (queue.pop_all(messages, std::chrono::milliseconds(0)))
        store();
    pipeline.sync();
    client.disconnect();
    while (queue.pop_all(messages, std::chrono::milliseconds(0)))
        store();
    pipeline.sync();
}

} // namespace iots::ingest
