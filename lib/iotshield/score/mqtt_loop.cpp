// iots-detect on MQTT: the network thread scores, publishes anomalies and writes the output; the
// main loop flushes it and writes the scores to the database (through ScoreQueue).
#include "iotshield/core/signals.hpp"
#include "iotshield/mqtt/client.hpp"
#include "iotshield/mqtt/topics.hpp"
#include "iotshield/record/parser.hpp"
#include "iotshield/record/serialize.hpp"
#include "iotshield/score/clock.hpp"
#include "iotshield/score/score_queue.hpp"
#include "iotshield/score/session.hpp"
#include "iotshield/score/summary.hpp"

#include <chrono>
#include <mutex>
#include <string>
#include <thread>

namespace iots::score {
namespace {

// The detector is the network thread's alone: its state is saved there too.
class MqttScorer final : public Handler {
public:
    MqttScorer(Session& s, const core::BrokerOptions& broker, mqtt::Client& client,
               ScoreQueue& queue)
        : m_s(s), m_broker(broker), m_client(client), m_queue(queue) {}

    void record(std::string_view text, const Origin& origin) override {
        score(text, origin);
        if (m_s.state)
            m_s.state->tick(m_s.detector);
    }
    void skipped(const Origin& /*origin*/) override {
        const std::lock_guard lock(m_mu);
        ++m_s.counts.read;
    }
    void poll(bool /*paused*/) override {}

    // Main loop: what the network thread wrote, and SIGUSR1's counters.
    void flush() {
        const std::lock_guard lock(m_mu);
        m_s.out.flush();
        if (core::take_counters_request())
            log_counters(m_s);
    }

private:
    void score(std::string_view text, const Origin& origin) {
        if (!m_parser.parse(text, m_r)) {
            const std::lock_guard lock(m_mu);
            ++m_s.counts.read;
            return m_s.rejects.reject(origin, m_parser.error());
        }
        const detect::Verdict v = m_s.detector.annotate(m_r);
        const bool out = !m_s.anomalies_only || v.anomaly;
        if (out) {
            m_json.clear();
            m_writer.append(m_r, m_json);
        }
        if (v.anomaly)
            m_client.publish(mqtt::anomaly_topic(m_broker.topic_prefix, m_r.device, m_r.sensor),
                             m_json, m_broker.qos);
        {
            const std::lock_guard lock(m_mu);
            ++m_s.counts.read;
            m_s.counts.anomalies += v.anomaly ? 1 : 0;
            if (out)
                m_s.out.write_line(m_json);
        }
        if (m_s.store)
            m_queue.push(m_r, monotonic_ms());
    }

    Session& m_s;
    const core::BrokerOptions& m_broker;
    mqtt::Client& m_client;
    ScoreQueue& m_queue;
    std::mutex m_mu; // m_s.out, m_s.counts, m_s.rejects while the client runs
    record::Parser m_parser;
    record::Reading m_r;
    std::string m_json;
    record::JsonWriter m_writer;
};

} // namespace

void run_mqtt(Session& s, const core::BrokerOptions& broker) {
    mqtt::Client client(broker, s.log);
    ScoreQueue queue;
    MqttScorer scorer(s, broker, client, queue);
    try {
        subscribe_readings(client, broker, scorer);
        while (!core::stop_requested()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            scorer.flush();
            if (s.store) {
                queue.write_to(*s.store);
                s.store->retry(monotonic_ms());
                s.store->commit();
            }
        }
    } catch (...) { // the network thread uses what is on this stack: stop it first
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
