#include "iotshield/act/service.hpp"

#include "iotshield/act/engine.hpp"
#include "iotshield/act/rules.hpp"
#include "iotshield/control/mqtt.hpp"
#include "iotshield/control/service.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/core/printable.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/core/waker.hpp"
#include "iotshield/input/lines.hpp"
#include "iotshield/input/messages.hpp"
#include "iotshield/mqtt/client.hpp"
#include "iotshield/mqtt/topics.hpp"
#include "iotshield/store/commands.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace iots::act {

namespace {

using nlohmann::json;

using core::Waker;

// The incident kind of an alert without iots-alert's "pattern": from the sensor that raised it.
std::string kind_of_sensor(std::string_view sensor) {
    if (sensor == "flame")
        return "fire";
    if (sensor == "gas")
        return "gas-leak";
    if (sensor == "motion")
        return "intrusion";
    if (sensor == "temperature")
        return "heat";
    if (sensor == "humidity" || sensor == "light")
        return std::string(sensor);
    return "anomaly";
}

std::string text(const json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<core::Millis> timestamp(const json& j) {
    const auto it = j.find("ts");
    if (it == j.end())
        return std::nullopt;
    if (it->is_number_integer())
        return it->get<core::Millis>();
    if (it->is_string())
        return core::parse_rfc3339(it->get_ref<const std::string&>());
    return std::nullopt;
}

class Act final : public input::Handler, public Sender, public Sink {
public:
    Act(const RunOptions& o, std::vector<Rule> rules, const core::Logger& log,
        core::LineWriter& out)
        : m_o(o), m_log(log), m_out(out), m_rejects(o.input, log),
          m_engine(std::move(rules), EngineOptions{o.dry_run, o.zone}, *this, *this, log) {
        if (o.dry_run)
            return;
        core::Millis timeout = 0;
        for (const Rule& r : m_engine.rules())
            timeout = std::max(timeout, r.confirm_ms);
        m_commands = std::make_unique<store::Commands>(o.db_path.empty() ? ":memory:" : o.db_path);
        core::BrokerOptions control = o.broker;
        if (!control.client_id.empty()) // the input has a connection of its own under -i
            control.client_id += "-control";
        m_mqtt = std::make_unique<control::MqttControl>(control, log);
        m_control = std::make_unique<control::ControlService>(
            o.broker.topic_prefix, timeout, m_mqtt.get(), *m_commands, m_commands_mutex,
            [this](const store::CommandRow& row, std::string_view topic) {
                if (!topic.empty() || row.status == "sent")
                    return; // sent: the engine knows already
                {
                    std::lock_guard lock(m_answers_mutex);
                    m_answers.emplace_back(row.id, row.status);
                }
                m_waker.wake();
            },
            log);
    }

    void start() {
        if (!m_mqtt)
            return;
        m_mqtt->start([this](std::string_view topic,
                             std::string_view payload) { m_control->handle_ack(topic, payload); },
                      10000);
        m_control->start();
    }

    void finish() {
        if (m_control)
            m_control->stop();
        if (m_mqtt) {
            m_mqtt->client().wait_published(2000);
            m_mqtt->client().disconnect();
        }
    }

    [[nodiscard]] input::Rejects& rejects() noexcept { return m_rejects; }
    [[nodiscard]] const Engine& engine() const noexcept { return m_engine; }
    void end_of_input() {
        tick();
        m_engine.end_of_input(core::now_millis());
    }
    [[nodiscard]] const Waker& waker() const noexcept { return m_waker; }

    // ---- input::Handler ----
    bool record(std::string_view line, const input::Origin& origin) override {
        const json j = json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
            m_rejects.reject(origin, "not a JSON object");
            return true;
        }
        const std::string kind = text(j, "kind");
        if (kind == "alert") {
            alert(j, origin);
        } else if (kind == "action" || kind == "command" || kind == "ack") {
            ++m_ignored; // iots-act's own records, or control traffic
        } else if (kind.empty() && j.contains("sensor") && j.contains("device")) {
            reading(j, origin);
        } else {
            m_rejects.reject(origin, kind.empty()
                                         ? std::string("not an alert or a reading")
                                         : fmt::format("unknown kind '{}'", core::printable(kind)));
        }
        tick();
        return true;
    }
    bool poll() override {
        if (core::take_counters_request())
            print_counters();
        tick();
        return true;
    }
    [[nodiscard]] int wake_fd() const override { return m_waker.fd(); }
    [[nodiscard]] int wait_ms() const override {
        const auto due = m_engine.next_due();
        if (!due)
            return -1;
        return static_cast<int>(std::clamp<core::Millis>(*due - core::now_millis(), 0, 60000));
    }

    void tick() {
        m_waker.drain();
        std::deque<std::pair<std::string, std::string>> answers;
        {
            std::lock_guard lock(m_answers_mutex);
            answers.swap(m_answers);
        }
        for (const auto& [id, status] : answers)
            m_engine.answer(id, status, core::now_millis());
        m_engine.tick(core::now_millis());
    }

    // ---- Sender ----
    std::string send(const std::string& device, const std::string& actuator,
                     const std::string& action) override {
        if (!m_control)
            return fmt::format("dry-{}", ++m_dry);
        return m_control->send({device, actuator, action}).row.id;
    }

    // ---- Sink ----
    void action(const std::string& j, std::string_view device) override {
        ++m_actions;
        out(j, device);
    }
    void alert(const std::string& j, std::string_view device) override {
        ++m_alerts_out;
        out(j, device);
    }

    void print_counters() const {
        const auto& c = m_engine.counters();
        std::string line = fmt::format(
            "alerts {}, rules fired {}, commands sent {} (retries {}), done {}, failed {}, "
            "unconfirmed {}, then clauses {} (cancelled {}); not fired: outside the time window "
            "{}, home not empty {}, awaiting an answer {}, cooldown {}, rate limit {}; bad lines "
            "{}",
            c.alerts, c.fired, c.sent, c.retries, c.done, c.failed, c.unconfirmed, c.then_sent,
            c.then_cancelled, c.skipped_window, c.skipped_occupied, c.skipped_busy,
            c.skipped_cooldown, c.skipped_rate, m_rejects.count());
        if (m_control) {
            const auto k = m_control->counters();
            line += fmt::format("; control: acks {}, ignored {}, timeouts {}, late {}", k.acks,
                                k.ignored, k.timeouts, k.late);
        }
        m_log.info("{}", line);
    }

private:
    void out(const std::string& j, std::string_view device) {
        m_out.write_line(j);
        if (m_mqtt && m_mqtt->connected())
            m_mqtt->client().publish(mqtt::alert_topic(m_o.broker.topic_prefix, device), j,
                                     m_o.broker.qos);
    }

    void alert(const json& j, const input::Origin& origin) {
        if (text(j, "source") == "act") { // iots-act's own alert about an actuator
            ++m_ignored;
            return;
        }
        AlertEvent a;
        a.id = text(j, "id");
        a.device = text(j, "device");
        const auto ts = timestamp(j);
        const auto severity = severity_rank(text(j, "severity"));
        const char* missing = a.id.empty()       ? "id"
                              : a.device.empty() ? "device"
                              : !ts              ? "ts"
                              : !severity        ? "severity"
                                                 : nullptr;
        if (missing != nullptr) {
            m_rejects.reject(origin, fmt::format("alert: missing or invalid \"{}\"", missing));
            return;
        }
        a.ts = *ts;
        a.severity = *severity;
        a.location = text(j, "location");
        a.event = text(j, "event");
        if (a.event.empty())
            a.event = "open";
        a.incident = text(j, "incident");
        if (a.incident.empty())
            a.incident = a.id;
        a.kind = text(j, "pattern");
        if (a.kind.empty())
            a.kind = kind_of_sensor(text(j, "sensor"));
        m_engine.alert(a, core::now_millis());
    }

    void reading(const json& j, const input::Origin& origin) {
        const auto ts = timestamp(j);
        const auto it = j.find("value");
        if (!ts || it == j.end() || !it->is_number()) {
            m_rejects.reject(origin, "reading: missing or invalid \"ts\" or \"value\"");
            return;
        }
        m_engine.reading(text(j, "device"), text(j, "location"), text(j, "sensor"),
                         it->get<double>(), *ts);
    }

    const RunOptions& m_o;
    const core::Logger& m_log;
    core::LineWriter& m_out;
    input::Rejects m_rejects;
    Waker m_waker;
    std::mutex m_answers_mutex;
    std::deque<std::pair<std::string, std::string>> m_answers;
    Engine m_engine;
    std::unique_ptr<store::Commands> m_commands;
    std::mutex m_commands_mutex;
    std::unique_ptr<control::ControlService> m_control;
    // Last, so destroyed first: its network thread hands answers to m_control.
    std::unique_ptr<control::MqttControl> m_mqtt;
    std::uint64_t m_dry = 0, m_ignored = 0, m_actions = 0, m_alerts_out = 0;
};

// At the end of the input: the then clauses still waiting sent at once, every command answered
// or given up on.
void settle(Act& act) {
    act.end_of_input();
    while (!act.engine().idle() && !core::stop_requested()) {
        const int wait = act.wait_ms();
        pollfd pfd{act.waker().fd(), POLLIN, 0};
        poll(&pfd, 1, wait < 0 ? 200 : std::min(wait, 200));
        act.tick();
    }
}

} // namespace

int run(const RunOptions& o, const core::Logger& log, core::LineWriter& out) {
    std::vector<Rule> rules = load_rules(o.rules_path);
    if (!o.dry_run && !o.broker.enabled())
        throw Error(Exit::usage, "no broker to send commands to: give -h HOST, or --dry-run");
    if (o.mqtt_input && !o.broker.enabled())
        throw Error(Exit::usage, "--input mqtt needs a broker: give -h HOST");
    const bool motion =
        std::any_of(rules.begin(), rules.end(), [](const Rule& r) { return r.empty_ms > 0; });
    log.debug("{} rules from {}", rules.size(), core::printable(o.rules_path));
    Act act(o, std::move(rules), log, out);
    try {
        act.start();
        if (o.mqtt_input) {
            input::MessageInput messages(o.broker, log, 1000);
            mqtt::Client& client = messages.client();
            client.connect();
            client.subscribe(mqtt::alerts_filter(o.broker.topic_prefix), o.broker.qos);
            if (motion)
                client.subscribe(mqtt::sensor_filter(o.broker.topic_prefix, "motion"),
                                 o.broker.qos);
            messages.run(act.rejects(), act);
            client.disconnect();
        } else if (input::read_lines(0, act.rejects(), act) == input::End::input) {
            settle(act);
        }
    } catch (...) {
        act.finish();
        act.print_counters();
        throw;
    }
    act.finish();
    act.print_counters();
    return 0;
}

} // namespace iots::act
