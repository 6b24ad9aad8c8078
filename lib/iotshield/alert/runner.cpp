#include "iotshield/alert/runner.hpp"

#include "iotshield/alert/alert.hpp"
#include "iotshield/alert/llm.hpp"
#include "iotshield/alert/rules.hpp"
#include "iotshield/alert/writer.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/core/waker.hpp"
#include "iotshield/input/lines.hpp"
#include "iotshield/input/messages.hpp"
#include "iotshield/mqtt/client.hpp"
#include "iotshield/record/parser.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace iots::alert {

namespace {

using core::Waker;

class Pipeline final : public input::Handler {
public:
    Pipeline(const RunOptions& o, const core::Logger& log, core::LineWriter& out)
        : m_o(o), m_log(log), m_out(out), m_rejects(o.input, log), m_tracker(o.tracker) {
        if (!o.db_path.empty()) // opened here: a bad path fails at start
            m_writer = std::make_unique<AlertWriter>(std::make_unique<store::Database>(
                o.db_path, store::patient_writer(log, o.db_path)));
        if (!o.exec.command.empty())
            m_exec = std::make_unique<ExecRunner>(o.exec, log);
        if (o.narrator != NarratorKind::rules && !o.dry_run)
            m_narrator = std::make_unique<NarratorWorker>(o.llm, log, [this] { m_waker.wake(); });
    }

    void set_mqtt(mqtt::Client* client) { m_mqtt = client; }
    [[nodiscard]] const Waker& waker() const noexcept { return m_waker; }

    [[nodiscard]] input::Rejects& rejects() noexcept { return m_rejects; }

    // One scored reading (a line or an MQTT payload). False: stop (-C).
    bool record(std::string_view text, const input::Origin& origin) override {
        if (!m_parser.parse(text, m_reading)) {
            m_rejects.reject(origin, m_parser.error());
            return true;
        }
        m_events.clear();
        m_tracker.observe(m_reading, core::now_millis(), m_events);
        return emit_events();
    }
    // Between records and after every wait: SIGUSR1's counters, the narrator's updates, the
    // wall clock's resolves and --exec's children. False: stop (-C).
    bool poll() override {
        if (core::take_counters_request())
            print_counters();
        drain_updates();
        return tick();
    }
    [[nodiscard]] int wake_fd() const override { return m_waker.fd(); }
    [[nodiscard]] int wait_ms() const override { return poll_timeout(); }

    bool tick() {
        m_events.clear();
        m_tracker.tick(core::now_millis(), m_events);
        if (m_exec)
            m_exec->reap(ExecRunner::monotonic_ms());
        return emit_events();
    }

    void drain_updates() {
        m_waker.drain();
        if (!m_narrator)
            return;
        for (const Alert& a : m_narrator->take_updates()) {
            const std::string json = to_json(a);
            const auto store = [&] {
                if (!m_writer)
                    return;
                store::AlertRow row = to_row(a, json);
                row.updated_ts = core::now_millis();
                m_writer->update_text(std::move(row));
            };
            write_out(json, store);
            store();
            publish(a, json);
        }
    }

    // Milliseconds poll() may sleep: wall-clock resolution is checked every second.
    [[nodiscard]] int poll_timeout() const {
        core::Millis t = 1000;
        if (m_exec) {
            const auto d = m_exec->next_deadline_in(ExecRunner::monotonic_ms());
            if (d >= 0)
                t = std::min(t, d + 1);
        }
        return static_cast<int>(t);
    }

    [[nodiscard]] bool narrator_idle() const { return !m_narrator || m_narrator->idle(); }

    // Stops the narrator, commits every alert handed to the database, ends --exec children.
    // Rethrows a database error unless `quiet` (already leaving on another error).
    void finish(bool quiet = false) {
        if (m_narrator) {
            m_narrator->stop();
            try {
                drain_updates();
            } catch (const OutputClosed&) { // the reader left: nothing more to tell it
            }
        }
        if (m_exec)
            m_exec->finish();
        if (m_writer) {
            try {
                m_writer->finish();
            } catch (...) {
                if (!quiet)
                    throw;
            }
        }
    }

    void print_counters() const {
        const auto& t = m_tracker.counters();
        std::string line = fmt::format(
            "readings {}, anomalies {}, incidents {} ({} open), alerts {}, bad lines {}",
            t.readings, t.anomalies, t.incidents, m_tracker.open_incidents(), m_alerts_out,
            m_rejects.count());
        if (m_o.narrator != NarratorKind::rules) {
            const auto name = m_o.narrator == NarratorKind::gemini ? "gemini" : "openai";
            if (m_o.dry_run) {
                line += fmt::format("; {} dry run: request bodies printed {}", name, m_dry);
            } else {
                const auto c = m_narrator->counters();
                line += fmt::format("; {}: updated {}, fallback {}", name, c.updated, c.fallback);
                std::string why;
                for (std::size_t i = 1; i < c.by_failure.size(); ++i)
                    if (c.by_failure[i] > 0)
                        why += fmt::format("{}{} {}", why.empty() ? "" : ", ",
                                           failure_name(static_cast<Failure>(i)), c.by_failure[i]);
                if (!why.empty())
                    line += " (" + why + ")";
                line += fmt::format(", retries {}, skipped {} (queue full), dropped {}", c.retries,
                                    c.skipped, c.dropped);
            }
        }
        if (m_writer) {
            const auto c = m_writer->counters();
            line += fmt::format("; db: rows {}, commits {}", c.rows, c.commits);
        }
        if (m_exec) {
            const auto& c = m_exec->counters();
            line += fmt::format("; exec: ok {}, failed {}, timed out {}, skipped {}", c.ok,
                                c.failed, c.timed_out, c.skipped);
        }
        m_log.info("{}", line);
    }

private:
    // Writes an alert to stdout; if its reader has gone, stores it before the tool leaves.
    template <typename Store> void write_out(const std::string& json, const Store& store) {
        try {
            m_out.write_line(json);
        } catch (const OutputClosed&) {
            store();
            throw;
        }
    }

    bool emit_events() {
        for (const Event& e : m_events) {
            emit(e);
            if (m_o.count > 0 && m_alerts_out >= m_o.count)
                return false;
        }
        return true;
    }

    static store::AlertRow to_row(const Alert& a, const std::string& json) {
        store::AlertRow r;
        r.id = a.id;
        r.ts = a.ts;
        r.device = a.device;
        r.sensor = a.sensor;
        r.severity = std::string(severity_name(a.severity));
        r.title = a.text.title;
        r.description = a.text.description;
        r.suggestion = a.text.suggestion;
        r.rules_title = a.rules.title;
        r.rules_description = a.rules.description;
        r.rules_suggestion = a.rules.suggestion;
        r.value = a.value;
        r.score = a.score;
        r.incident = a.incident;
        r.source = a.source;
        r.status = a.event == EventKind::resolve ? "resolved" : "new";
        r.json = json;
        return r;
    }

    void publish(const Alert& a, const std::string& json) {
        if (m_mqtt != nullptr)
            m_mqtt->publish(mqtt::alert_topic(m_o.broker.topic_prefix, a.device), json,
                            m_o.broker.qos);
    }

    void emit(const Event& e) {
        Alert a = make_alert(e, narrate(e, m_o.tracker.policy, m_o.tracker.quiet_ms));
        a.pattern = pattern_name(classify(e.incident, e.sensor, m_o.tracker.policy));
        const std::string json = to_json(a);
        // stdout first: the alert must not wait for anything else. Committed by the writer
        // thread: a commit never holds the next alert.
        const auto store = [&] {
            if (m_writer)
                m_writer->insert(to_row(a, json), e.kind == EventKind::resolve);
        };
        write_out(json, store);
        ++m_alerts_out;
        store();
        publish(a, json);
        if (m_exec)
            m_exec->run(json, {{"IOTS_ALERT_ID", a.id},
                               {"IOTS_ALERT_SEVERITY", std::string(severity_name(a.severity))},
                               {"IOTS_ALERT_DEVICE", a.device},
                               {"IOTS_ALERT_EVENT", std::string(event_name(a.event))}});
        if (m_o.narrator == NarratorKind::rules || e.kind == EventKind::resolve)
            return; // a resolve notice needs no richer words
        std::string facts = facts_json(e, m_o.tracker.policy, m_o.facts);
        if (m_o.dry_run) {
            const Request req = build_request(m_o.llm, facts);
            std::string line = req.body + "\n";
            // The exact bytes that would be sent, alone on a line of stderr.
            [[maybe_unused]] const auto n = write(2, line.data(), line.size());
            ++m_dry;
            return;
        }
        m_narrator->submit(a, std::move(facts));
    }

    const RunOptions& m_o;
    const core::Logger& m_log;
    core::LineWriter& m_out;
    input::Rejects m_rejects;
    IncidentTracker m_tracker;
    record::Parser m_parser;
    record::Reading m_reading;
    std::vector<Event> m_events;
    std::unique_ptr<AlertWriter> m_writer;
    std::unique_ptr<ExecRunner> m_exec;
    Waker m_waker;
    std::unique_ptr<NarratorWorker> m_narrator; // after m_waker: it calls wake() until joined
    mqtt::Client* m_mqtt = nullptr;
    std::uint64_t m_alerts_out = 0;
    std::uint64_t m_dry = 0;
};

// Waits for the narrator to finish what is queued (bounded by its timeouts and retries).
void wait_for_narrator(Pipeline& p) {
    while (!p.narrator_idle() && !core::stop_requested()) {
        pollfd pfd{p.waker().fd(), POLLIN, 0};
        poll(&pfd, 1, p.poll_timeout());
        p.drain_updates();
        p.tick();
    }
}

int run_stdin(Pipeline& p) {
    if (input::read_lines(0, p.rejects(), p) == input::End::input)
        wait_for_narrator(p);
    return 0;
}

int run_mqtt(Pipeline& p, const RunOptions& o, const core::Logger& log) {
    // Unbounded, as before the input driver: the pipeline publishes its alerts from this thread.
    input::MessageInput messages(o.broker, log, input::MessageInput::kUnbounded);
    mqtt::Client& client = messages.client();
    client.connect();
    client.subscribe(mqtt::anomalies_filter(o.broker.topic_prefix), o.broker.qos);
    // Left by an error, run()'s p.finish(true) must not publish on the client gone with it.
    struct Unset {
        Pipeline& p;
        ~Unset() { p.set_mqtt(nullptr); }
    } unset{p};
    p.set_mqtt(&client);
    messages.run(p.rejects(), p);
    p.finish();
    client.wait_published(2000);
    client.disconnect();
    return 0;
}

} // namespace

int run(const RunOptions& o, const core::Logger& log, core::LineWriter& out) {
    Pipeline p(o, log, out);
    int rc = 0;
    try {
        rc = o.broker.enabled() ? run_mqtt(p, o, log) : run_stdin(p);
    } catch (const OutputClosed&) {
        // The reader left: a quiet stop, but every alert handed to the database is committed
        // first, and a failure to do so is an error.
        try {
            p.finish();
        } catch (...) {
            p.print_counters();
            throw;
        }
        p.print_counters();
        throw;
    } catch (...) {
        p.finish(true);
        p.print_counters();
        throw;
    }
    p.finish();
    p.print_counters();
    return rc;
}

void choose_narrator(RunOptions& o, NarratorKind kind, const std::string& url,
                     const std::optional<std::string>& key_file) {
    o.narrator = kind;
    if (kind == NarratorKind::rules)
        return;
    const bool gemini = kind == NarratorKind::gemini;
    o.llm.provider = gemini ? Provider::gemini : Provider::openai;
    o.llm.url = url;
    if (o.llm.model.empty())
        o.llm.model = gemini ? "gemini-2.5-flash" : "llama3.2";
    if (key_file)
        o.llm.api_key = *key_file;
    else if (const char* k = std::getenv(gemini ? "GEMINI_API_KEY" : "OPENAI_API_KEY");
             k != nullptr)
        o.llm.api_key = k;
    if (gemini && o.llm.api_key.empty() && !o.dry_run)
        throw Error(Exit::usage,
                    "--narrator gemini needs a key: set GEMINI_API_KEY or give --api-key-file");
}

} // namespace iots::alert
