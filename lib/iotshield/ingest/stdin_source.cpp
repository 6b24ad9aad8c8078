#include "iotshield/core/signals.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/ingest/sources.hpp"
#include "iotshield/input/lines.hpp"

namespace iots::ingest {

namespace {

class Lines final : public input::Handler {
public:
    explicit Lines(Pipeline& pipeline) : m_pipeline(pipeline) {}

    bool record(std::string_view text, const input::Origin& origin) override {
        const core::Millis now = monotonic_ms();
        m_pipeline.reading(text, {.line = origin.line}, now, core::now_millis());
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
};

} // namespace

void run_stdin(const Options& options, Pipeline& pipeline) {
    Lines lines(pipeline);
    input::read_lines(options.input_fd, pipeline.rejects(), lines);
    pipeline.sync();
}

} // namespace iots::ingest
