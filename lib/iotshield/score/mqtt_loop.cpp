// iots-detect on MQTT: the network thread scores (input::deliver), publishes anomalies and writes
// the output; the main loop flushes it and writes the scores to the database (through ScoreQueue).
// The alarm lane: the sensors with a safety threshold come in on a second connection with its own
// network thread, so that a fire reading never waits in the broker's queue, the socket or a read
// burst behind the ordinary readings. The two threads share the detector, one message at a time.
#include "iotshield/adapt/adapter.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/input/messages.hpp"
#include "iotshield/mqtt/client.hpp"
#include "iotshield/mqtt/topics.hpp"
#include "iotshield/record/parser.hpp"
#include "iotshield/record/safety.hpp"
#include "iotshield/record/sensor.hpp"
#include "iotshield/record/serialize.hpp"
#include "iotshield/score/clock.hpp"
#include "iotshield/score/score_queue.hpp"
#include "iotshield/score/session.hpp"
#include "iotshield/score/summary.hpp"

#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace iots::score {
namespace {

// One connection's share of the work: its client (anomalies are published on the connection
// their reading came in on) and the scores of its current message, for the database.
struct Lane {
    mqtt::Client& client;
    std::vector<record::Reading> scored;
};

// The detector, the rejects and the state are shared by the lanes' network threads, under m_mu.
class MqttScorer final : public input::Handler {
public:
    MqttScorer(Session& s, const core::BrokerOptions& broker, ScoreQueue& queue,
               const adapt::Options& adapt)
        : m_s(s), m_broker(broker), m_queue(queue), m_adapter(adapt),
          m_topics(broker.topic_prefix) {}

    // Network thread of `lane`. A record rejected past the policy (exit 65) is kept for the main
    // loop, which rethrows it from flush(); no message is scored after it.
    void message(const mqtt::Message& m, Lane& lane) {
        if (core::stop_requested())
            return;
        {
            const std::lock_guard lock(m_mu);
            if (m_failure)
                return;
            lane.scored.clear();
            m_lane = &lane;
            try {
                input::deliver(m, m_s.rejects, *this);
            } catch (...) {
                m_failure = std::current_exception();
                return;
            }
            if (m_s.state)
                m_s.state->tick(m_s.detector);
        }
        // Outside the lock: the queue may wait for the main loop, which takes it to flush.
        if (m_s.store)
            for (const auto& r : lane.scored)
                m_queue.push(r, monotonic_ms());
    }

    // A reading of a sensor with a safety threshold (<prefix>/sensors/<device>/flame, gas or
    // temperature): the alarm lane's, which the ordinary lane then leaves alone.
    [[nodiscard]] bool alarm_topic(std::string_view topic) const {
        const auto series = m_topics.sensor_series(topic);
        return series && record::has_safety_threshold(record::sensor_kind(series->sensor));
    }

    // Network thread, under m_mu (message()). publish() never waits on the network thread.
    bool record(std::string_view text, const input::Origin& origin) override {
        if (m_adapter.options().format != adapt::Format::iotshield) {
            m_adapter.adapt(origin.topic, text, core::now_millis(), m_result);
            switch (m_result.kind) {
            case adapt::Kind::native:
                break;
            case adapt::Kind::status: // a device's availability: nothing to score
            case adapt::Kind::ignored:
                return true;
            case adapt::Kind::readings:
                for (const auto& problem : m_result.problems) {
                    ++m_s.counts.read;
                    m_s.rejects.reject(origin, problem);
                }
                for (auto& r : m_result.readings) {
                    ++m_s.counts.read;
                    score(r);
                }
                return true;
            }
        }
        ++m_s.counts.read;
        if (!m_parser.parse(text, m_r)) {
            m_s.rejects.reject(origin, m_parser.error());
            return true;
        }
        score(m_r);
        return true;
    }
    void skipped(const input::Origin& /*origin*/) override { ++m_s.counts.read; }

    // Scores r, kept for the database, publishes it when anomalous and writes it out.
    void score(record::Reading& r) {
        const detect::Verdict v = m_s.detector.annotate(r);
        m_lane->scored.push_back(r);
        m_s.counts.anomalies += v.anomaly ? 1 : 0;
        if (m_s.anomalies_only && !v.anomaly)
            return;
        m_json.clear();
        m_writer.append(r, m_json);
        if (v.anomaly)
            m_lane->client.publish(mqtt::anomaly_topic(m_broker.topic_prefix, r.device, r.sensor),
                                   m_json, m_broker.qos);
        m_s.out.write_line(m_json);
    }

    // Main loop: what the network thread wrote, and SIGUSR1's counters. Rethrows the network
    // thread's failure.
    void flush() {
        const std::lock_guard lock(m_mu);
        m_s.out.flush();
        if (core::take_counters_request())
            log_counters(m_s);
        if (m_failure)
            std::rethrow_exception(m_failure);
    }

private:
    Session& m_s;
    const core::BrokerOptions& m_broker;
    ScoreQueue& m_queue;
    // m_s (detector, out, counts, rejects, state), m_failure and what follows while clients run.
    std::mutex m_mu;
    std::exception_ptr m_failure;
    Lane* m_lane = nullptr; // of the message being scored
    record::Parser m_parser;
    adapt::Adapter m_adapter;
    adapt::Result m_result;
    record::Reading m_r;
    std::string m_json;
    record::JsonWriter m_writer;
    mqtt::TopicParser m_topics;
};

// The alarm lane's client id: <id>-alarm, so that a persistent session (-c -i) keeps both queues.
core::BrokerOptions alarm_options(core::BrokerOptions broker) {
    if (!broker.client_id.empty())
        broker.client_id += "-alarm";
    return broker;
}

} // namespace

void run_mqtt(Session& s, const core::BrokerOptions& broker,
              const std::vector<std::string>& filters, const adapt::Options& adapt,
              bool alarm_lane) {
    // Only the default subscription of IoTShield's topics names the sensor in the topic.
    alarm_lane = alarm_lane && filters.empty() && adapt.format == adapt::Format::iotshield;
    ScoreQueue queue;
    MqttScorer scorer(s, broker, queue, adapt);
    mqtt::Client client(broker, s.log);
    Lane ordinary{client, {}};
    std::unique_ptr<mqtt::Client> alarm_client;
    std::unique_ptr<Lane> alarm;
    if (alarm_lane) {
        alarm_client = std::make_unique<mqtt::Client>(alarm_options(broker), s.log);
        alarm = std::make_unique<Lane>(Lane{*alarm_client, {}});
        alarm_client->on_message(
            [&scorer, &alarm](const mqtt::Message& m) { scorer.message(m, *alarm); });
        client.on_message([&scorer, &ordinary](const mqtt::Message& m) {
            if (!scorer.alarm_topic(m.topic))
                scorer.message(m, ordinary);
        });
    } else {
        client.on_message(
            [&scorer, &ordinary](const mqtt::Message& m) { scorer.message(m, ordinary); });
    }
    // The network threads use what is on this stack: stop them before leaving.
    const auto stop = [&] {
        queue.leave();
        if (alarm_client)
            alarm_client->disconnect();
        client.disconnect();
    };
    try {
        if (alarm_client) { // first: a backlog of alarms goes ahead of the ordinary one
            alarm_client->connect();
            for (const auto kind : record::kSafetyKinds)
                alarm_client->subscribe(
                    mqtt::sensor_filter(broker.topic_prefix, record::sensor_name(kind)),
                    broker.qos);
        }
        client.connect();
        if (!filters.empty()) {
            for (const auto& filter : filters)
                client.subscribe(filter, broker.qos);
        } else if (adapt.format == adapt::Format::iotshield) {
            client.subscribe(mqtt::sensors_filter(broker.topic_prefix), broker.qos);
        } else {
            for (const auto& filter : adapt::subscriptions(adapt.format, broker.topic_prefix))
                client.subscribe(filter, broker.qos);
        }
        while (!core::stop_requested()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            scorer.flush();
            if (s.store) {
                queue.write_to(*s.store);
                s.store->retry(monotonic_ms());
                s.store->commit();
            }
        }
    } catch (const Error& e) {
        stop();
        if (e.code() == Exit::bad_input && s.store) { // rejected: commit what came before it
            queue.write_to(*s.store);
            s.store->commit();
        }
        throw;
    } catch (...) {
        stop();
        throw;
    }
    queue.leave();
    if (alarm_client)
        alarm_client->wait_published(2000);
    client.wait_published(2000);
    stop();
    if (s.store)
        queue.write_to(*s.store);
}

} // namespace iots::score
