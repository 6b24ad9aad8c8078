#pragma once
// iots-act's rule engine (man/iots-act.1, RULES AND ACTIONS): alerts in, commands and action
// records out. A rule fires when an alert of its kind opens or raises an incident at or above its
// severity, in its scope, inside its time window and (with `if empty`) when no motion was seen in
// the minutes before the incident opened; then it rests for its cooldown and fires at most
// max_count times in any max_window. Each command waits confirm_ms for the node's answer, is sent
// again (a new command) up to `retries` times, and a command left unanswered after the last try
// raises a HIGH alert naming the actuator and its room. A then clause is sent when the incident a
// rule fired for resolves, after its delay, unless a rule sent that actuator something since.
// Pure: no I/O and no clock of its own; the caller passes the time in (tests inject it), sends
// through a Sender and writes through a Sink.
#include "iotshield/act/rules.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/core/zone.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace iots::act {

// What the engine reads from an alert record.
struct AlertEvent {
    std::string id;
    core::Millis ts = 0;
    std::string device;
    std::string location;
    std::string kind;  // the pattern: fire, gas-leak...
    std::string event; // open | raise | resolve
    std::string incident;
    int severity = 0; // severity_rank()
};

class Sender {
public:
    virtual ~Sender() = default;
    // Sends a command; returns its id. Throws std::exception when it could not be sent.
    virtual std::string send(const std::string& device, const std::string& actuator,
                             const std::string& action) = 0;
};

class Sink {
public:
    virtual ~Sink() = default;
    // An action record (record/action.hpp) and the HIGH alert of an unconfirmed command
    // (record/alert.hpp), each with the device whose alerts topic it belongs on.
    virtual void action(const std::string& json, std::string_view device) = 0;
    virtual void alert(const std::string& json, std::string_view device) = 0;
};

struct EngineOptions {
    bool dry_run = false; // commands are not sent: the action records say "dry-run"
    core::Zone zone;      // the home's, for `between`
};

struct EngineCounters {
    std::uint64_t alerts = 0, fired = 0, sent = 0, retries = 0, done = 0, failed = 0,
                  unconfirmed = 0, then_sent = 0, then_cancelled = 0;
    std::uint64_t skipped_window = 0, skipped_occupied = 0, skipped_busy = 0, skipped_cooldown = 0,
                  skipped_rate = 0;
};

class Engine {
public:
    Engine(std::vector<Rule> rules, EngineOptions options, Sender& sender, Sink& sink,
           const core::Logger& log);

    // An alert record; `now` is the wall clock (cooldowns, rates, deadlines). The alert's own ts
    // judges the time window and the motion.
    void alert(const AlertEvent& a, core::Millis now);
    // A reading: its location names its device's room, and a motion of 1 is someone there.
    void reading(std::string_view device, std::string_view location, std::string_view sensor,
                 double value, core::Millis ts);
    // The node's answer to a command (done | failed); anything else (timeout) is ignored: the
    // engine keeps its own deadlines.
    void answer(const std::string& id, std::string_view status, core::Millis now);
    // Retries, gives up and sends then clauses that are due.
    void tick(core::Millis now);

    // The input is over: the then clauses still waiting fall due now (nothing can cancel them).
    void end_of_input(core::Millis now);

    // When tick() has something to do next; nullopt: nothing waits.
    [[nodiscard]] std::optional<core::Millis> next_due() const;
    // Nothing awaits an answer and no then clause is scheduled.
    [[nodiscard]] bool idle() const noexcept { return m_pending.empty() && m_scheduled.empty(); }
    [[nodiscard]] const EngineCounters& counters() const noexcept { return m_counters; }
    [[nodiscard]] const std::vector<Rule>& rules() const noexcept { return m_rules; }

private:
    struct Context {
        std::string alert, incident, location, severity, event;
    };
    struct Pending {
        std::size_t rule = 0;
        std::string action;
        Context ctx;
        int attempt = 1;
        core::Millis deadline = 0;
        std::uint64_t seq = 0;
    };
    struct Scheduled {
        std::size_t rule = 0;
        core::Millis due = 0;
        Context ctx;
        std::uint64_t seq = 0;
    };
    struct RuleState {
        std::optional<core::Millis> last;
        std::deque<core::Millis> fires;
    };

    [[nodiscard]] bool matches(const Rule& r, const AlertEvent& a) const;
    [[nodiscard]] bool home_empty(const Rule& r, const AlertEvent& a) const;
    void fire(std::size_t rule, const Context& ctx, core::Millis now);
    void send(std::size_t rule, const std::string& action, const Context& ctx, int attempt,
              core::Millis now);
    void emit(const Pending& p, std::string_view id, core::Millis now, std::string_view status);
    void give_up(const Pending& p, std::string_view id, core::Millis now, std::string_view why);
    [[nodiscard]] std::string room_of(const std::string& device, const Context& ctx) const;

    std::vector<Rule> m_rules;
    EngineOptions m_options;
    Sender& m_sender;
    Sink& m_sink;
    const core::Logger& m_log;
    std::vector<RuleState> m_state;
    std::unordered_map<std::string, Pending> m_pending; // by command id
    std::vector<Scheduled> m_scheduled;
    std::unordered_map<std::string, std::vector<std::size_t>> m_armed; // incident: rules with then
    std::unordered_map<std::string, core::Millis> m_opened;            // incident: first alert ts
    std::map<std::string, core::Millis> m_last_motion;                 // room: ts
    std::optional<core::Millis> m_first_reading;
    std::unordered_map<std::string, std::string> m_rooms; // device: location
    std::uint64_t m_seq = 0, m_unsent = 0;
    EngineCounters m_counters;
};

} // namespace iots::act
