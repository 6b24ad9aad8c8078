#include "iotshield/core/signals.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/ingest/sources.hpp"
#include "iotshield/input/lines.hpp"
#include "iotshield/mqtt/topics.hpp"

namespace iots::ingest {

namespace {

class Lines final : public input::Handler {
public:
    Lines(const adapt::Options& adapt, Pipeline& pipeline)
        : m_pipeline(pipeline), m_adapter(adapt), m_topics(adapt.prefix) {}

    bool record(std::string_view text, const input::Origin& origin) override {
        const core::Millis now = monotonic_ms();
        if (m_adapter.options().format == adapt::Format::iotshield) {
            m_pipeline.reading(text, {.line = origin.line}, now, core::now_millis());
        } else {
            // `TOPIC PAYLOAD` (mosquitto_sub -v), or a bare record.
            const Origin from{.line = origin.line};
            m_adapter.adapt_line(text, core::now_millis(), m_result);
            if (!feed(m_pipeline, m_result, from, now, core::now_millis(), false)) {
                if (const auto device = m_topics.status_device(m_result.topic))
                    m_pipeline.status(*device, m_result.payload, from, core::now_millis(), now);
                else
                    m_pipeline.reading(m_result.payload, from, now, core::now_millis());
            }
        }
        if (m_pipeline.due(now))
            m_pipeline.commit();
        return true;
    }
    void skipped(const input::Origin& /*origin*/) override { m_pipeline.skipped(); }
    bool poll() override {
        m_pipeline.check();
        if (core::take_counters_request())
            m_pipeline.report_counters();
        return true;
    }
    // The stream paused: commit the batch in hand now (latency first, and the write lock is not
    // held while the input waits). Retention runs on the store thread meanwhile.
    void pause() override {
        if (m_pipeline.pending())
            m_pipeline.commit();
    }
    // Readable once the store thread failed: poll() rethrows its error.
    [[nodiscard]] int wake_fd() const override { return m_pipeline.wake_fd(); }

private:
    Pipeline& m_pipeline;
    adapt::Adapter m_adapter;
    adapt::Result m_result;
    mqtt::TopicParser m_topics;
};

} // namespace

void run_stdin(const Options& options, Pipeline& pipeline) {
    Lines lines(options.adapt, pipeline);
    input::read_lines(options.input_fd, pipeline.rejects(), lines);
    pipeline.sync();
}

} // namespace iots::ingest
