// iots-detect on MQTT: the network thread scores (input::deliver), publishes anomalies and writes
// the output; the main loop flushes it and writes the scores to the database (through ScoreQueue).
#include "iotshield/adapt/adapter.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/input/messages.hpp"
#include "iotshield/mqtt/client.hpp"
#include "iotshield/mqtt/topics.hpp"
#include "iotshield/record/parser.hpp"
#include "iotshield/record/serialize.hpp"
#include "iotshield/score/clock.hpp"
#include "iotshield/score/score_queue.hpp"
#include "iotshield/score/session.hpp"
#include "iotshield/score/summary.hpp"

#include <chrono>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace iots::score {
namespace {

// The detector and the rejects are the network thread's alone: the state is saved there too.
class MqttScorer final : public input::Handler {
public:
    MqttScorer(Session& s, const core::BrokerOptions& broker, mqtt::Client& client,
               ScoreQueue& queue, const adapt::Options& adapt)
        : m_s(s), m_broker(broker), m_client(client), m_queue(queue), m_adapter(adapt) {}

    // Network thread. A record rejected past the policy (exit 65) is kept for the main loop,
    // which rethrows it from flush(); no message is scored after it.
    void message(const mqtt::Message& m) {
        if (core::stop_requested())
            return;
        {
            const std::lock_guard lock(m_mu);
            if (m_failure)
                return;
            m_scored.clear();
            try {
                input::deliver(m, m_s.rejects, *this);
            } catch (...) {
                m_failure = std::current_exception();
                return;
            }
        }
        // Outside the lock: the queue may wait for the main loop, which takes it to flush.
        if (m_s.store)
            for (const auto& r : m_scored)
                m_queue.push(r, monotonic_ms());
        if (m_s.state)
            m_s.state->tick(m_s.detector);
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
        m_scored.push_back(r);
        m_s.counts.anomalies += v.anomaly ? 1 : 0;
        if (m_s.anomalies_only && !v.anomaly)
            return;
        m_json.clear();
        m_writer.append(r, m_json);
        if (v.anomaly)
            m_client.publish(mqtt::anomaly_topic(m_broker.topic_prefix, r.device, r.sensor), m_json,
                             m_broker.qos);
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
    mqtt::Client& m_client;
    ScoreQueue& m_queue;
    std::mutex m_mu; // m_s.out, m_s.counts, m_s.rejects, m_failure while the client runs
    std::exception_ptr m_failure;
    std::vector<record::Reading> m_scored; // of the current message, for the database
    record::Parser m_parser;
    adapt::Adapter m_adapter;
    adapt::Result m_result;
    record::Reading m_r;
    std::string m_json;
    record::JsonWriter m_writer;
};

} // namespace

void run_mqtt(Session& s, const core::BrokerOptions& broker,
              const std::vector<std::string>& filters, const adapt::Options& adapt) {
    mqtt::Client client(broker, s.log);
    ScoreQueue queue;
    MqttScorer scorer(s, broker, client, queue, adapt);
    client.on_message([&scorer](const mqtt::Message& m) { scorer.message(m); });
    try {
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
    } catch (const Error& e) { // the network thread uses what is on this stack: stop it first
        queue.leave();
        client.disconnect();
        if (e.code() == Exit::bad_input && s.store) { // rejected: commit what came before it
            queue.write_to(*s.store);
            s.store->commit();
        }
        throw;
    } catch (...) {
        queue.leave();
        client.disconnect();
        throw;
    }
    queue.leave();
    client.wait_published(2000);
    client.disconnect();
    if (s.store)
        queue.write_to(*s.store);
}

} // namespace iots::score
