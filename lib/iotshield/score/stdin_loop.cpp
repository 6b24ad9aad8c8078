// iots-detect on stdin: one thread reads (input::read_lines), scores, writes the output and the
// scores.
#include "iotshield/core/signals.hpp"
#include "iotshield/input/lines.hpp"
#include "iotshield/record/parser.hpp"
#include "iotshield/record/serialize.hpp"
#include "iotshield/score/clock.hpp"
#include "iotshield/score/session.hpp"
#include "iotshield/score/summary.hpp"

namespace iots::score {
namespace {

// What came before: the output flushed, the scores committed.
void commit(Session& s) {
    s.out.flush();
    if (s.store)
        s.store->commit();
}

class StdinScorer final : public input::Handler {
public:
    explicit StdinScorer(Session& s) : m_s(s) {}

    bool record(std::string_view text, const input::Origin& origin) override {
        ++m_s.counts.read;
        if (!m_parser.parse(text, m_r)) {
            m_s.rejects.reject(origin, m_parser.error());
            return true;
        }
        const detect::Verdict v = m_s.detector.annotate(m_r);
        if (m_s.store)
            m_s.store->write(m_r, monotonic_ms());
        m_s.counts.anomalies += v.anomaly ? 1 : 0;
        if (m_s.anomalies_only && !v.anomaly)
            return true;
        m_s.out.write_line_in_place(record::JsonWriter::max_size(m_r),
                                    [&](char* at) { return m_json.write(m_r, at); });
        return true;
    }

    void skipped(const input::Origin& /*origin*/) override { ++m_s.counts.read; }

    // Every input::kPollEvery lines and after every wait: scores whose reading another process
    // has committed since, SIGUSR1 and the state's timer.
    bool poll() override {
        if (m_s.store)
            m_s.store->retry(monotonic_ms());
        if (core::take_counters_request())
            log_counters(m_s);
        if (m_s.state)
            m_s.state->tick(m_s.detector);
        return true;
    }

    // Before a read that may wait: commit, so that the write lock is never held while the input
    // pauses.
    void pause() override {
        if (m_s.store)
            m_s.store->retry(monotonic_ms());
        commit(m_s);
    }

private:
    Session& m_s;
    record::Parser m_parser;
    record::Reading m_r;
    record::JsonWriter m_json;
};

} // namespace

void run_stdin(Session& s) {
    // Output is flushed whenever the input pauses, not per line: a lone reading still goes out at
    // once, and a backlog is written in large blocks.
    s.out.set_flush_each_line(false);
    StdinScorer scorer(s);
    s.rejects.before_exit([&s] { commit(s); });
    input::read_lines(0, s.rejects, scorer);
}

} // namespace iots::score
