#include "iotshield/act/engine.hpp"

#include "iotshield/core/duration.hpp"
#include "iotshield/core/printable.hpp"
#include "iotshield/record/action.hpp"
#include "iotshield/record/alert.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace iots::act {

namespace {

constexpr core::Millis kMinute = 60 * 1000;
constexpr core::Millis kDay = 24 * 60 * kMinute;

std::string_view noun(std::string_view actuator) noexcept {
    if (actuator == "valve")
        return "gas valve";
    if (actuator == "door")
        return "door lock";
    return actuator;
}

std::string gerund(std::string_view action) {
    if (action == "on" || action == "off")
        return fmt::format("switching {}", action);
    if (action == "close")
        return "closing";
    if (action == "open")
        return "opening";
    if (action == "toggle")
        return "toggling";
    if (action == "lock")
        return "locking";
    if (action == "unlock")
        return "unlocking";
    return std::string(action);
}

std::string capitalized(std::string s) {
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z')
        s[0] = static_cast<char>(s[0] - 'a' + 'A');
    return s;
}

} // namespace

Engine::Engine(std::vector<Rule> rules, EngineOptions options, Sender& sender, Sink& sink,
               const core::Logger& log)
    : m_rules(std::move(rules)), m_options(std::move(options)), m_sender(sender), m_sink(sink),
      m_log(log), m_state(m_rules.size()) {}

bool Engine::matches(const Rule& r, const AlertEvent& a) const {
    if (!kind_matches(r.kind, a.kind) || a.severity < r.min_severity)
        return false;
    switch (r.scope) {
    case Rule::Scope::anywhere:
        return true;
    case Rule::Scope::device:
        return a.device == r.scope_name;
    case Rule::Scope::room: {
        if (!a.location.empty())
            return a.location == r.scope_name;
        const auto it = m_rooms.find(a.device);
        return it != m_rooms.end() && it->second == r.scope_name;
    }
    }
    return false;
}

// No motion in the empty_ms before the incident opened, the last minute left out: that is the
// motion that may have opened it (an intruder). Not judged (so not empty) until iots-act has seen
// readings for that long.
bool Engine::home_empty(const Rule& r, const AlertEvent& a) const {
    const auto it = m_opened.find(a.incident);
    const core::Millis opened = it != m_opened.end() ? it->second : a.ts;
    const core::Millis from = opened - r.empty_ms, to = opened - kMinute;
    if (!m_first_reading || *m_first_reading > from)
        return false;
    return std::none_of(m_last_motion.begin(), m_last_motion.end(),
                        [&](const auto& m) { return m.second >= from && m.second < to; });
}

void Engine::reading(std::string_view device, std::string_view location, std::string_view sensor,
                     double value, core::Millis ts) {
    if (!m_first_reading || ts < *m_first_reading)
        m_first_reading = ts;
    std::string room = location.empty() ? std::string(device) : std::string(location);
    if (!location.empty())
        m_rooms[std::string(device)] = room;
    if (sensor == "motion" && value >= 0.5) {
        auto& last = m_last_motion[room];
        last = std::max(last, ts);
    }
}

void Engine::alert(const AlertEvent& a, core::Millis now) {
    ++m_counters.alerts;
    if (!a.location.empty())
        m_rooms[a.device] = a.location;
    const Context ctx{a.id, a.incident, a.location, std::string(severity_name(a.severity)),
                      a.event};
    if (a.event == "resolve") {
        m_opened.erase(a.incident);
        const auto it = m_armed.find(a.incident);
        if (it == m_armed.end())
            return;
        Context then = ctx;
        then.severity = "LOW";
        for (const std::size_t i : it->second)
            m_scheduled.push_back({i, now + m_rules[i].then_delay_ms, then, ++m_seq});
        m_armed.erase(it);
        return;
    }
    m_opened.emplace(a.incident, a.ts);
    for (std::size_t i = 0; i < m_rules.size(); ++i) {
        const Rule& r = m_rules[i];
        if (!matches(r, a))
            continue;
        if (r.window) {
            const core::Millis local = m_options.zone.local(a.ts);
            const auto minute = static_cast<int>((((local % kDay) + kDay) % kDay) / kMinute);
            if (!r.window->contains(minute)) {
                ++m_counters.skipped_window;
                continue;
            }
        }
        if (r.empty_ms > 0 && !home_empty(r, a)) {
            ++m_counters.skipped_occupied;
            continue;
        }
        fire(i, ctx, now);
    }
}

void Engine::fire(std::size_t i, const Context& ctx, core::Millis now) {
    const Rule& r = m_rules[i];
    RuleState& s = m_state[i];
    const bool busy = std::any_of(m_pending.begin(), m_pending.end(), [&](const auto& p) {
        return p.second.rule == i && p.second.action == r.action;
    });
    if (busy) { // its last command still awaits an answer
        ++m_counters.skipped_busy;
        return;
    }
    if (s.last && now - *s.last < r.cooldown_ms) {
        ++m_counters.skipped_cooldown;
        m_log.debug("{}: resting (cooldown {})", r.where, core::format_duration(r.cooldown_ms));
        return;
    }
    if (r.max_count > 0) {
        while (!s.fires.empty() && s.fires.front() <= now - r.max_window_ms)
            s.fires.pop_front();
        if (static_cast<int>(s.fires.size()) >= r.max_count) {
            ++m_counters.skipped_rate;
            m_log.warn("{}: not sent: already {} times in {} (max {}/{})", r.where, s.fires.size(),
                       core::format_duration(r.max_window_ms), r.max_count,
                       core::format_duration(r.max_window_ms));
            return;
        }
        s.fires.push_back(now);
    }
    s.last = now;
    ++m_counters.fired;
    // A later command to the same actuator overrides a then clause still waiting.
    const auto cancelled = std::erase_if(m_scheduled, [&](const Scheduled& sch) {
        return m_rules[sch.rule].device == r.device && m_rules[sch.rule].actuator == r.actuator;
    });
    m_counters.then_cancelled += cancelled;
    if (!r.then_action.empty()) {
        auto& armed = m_armed[ctx.incident];
        if (std::find(armed.begin(), armed.end(), i) == armed.end())
            armed.push_back(i);
    }
    send(i, r.action, ctx, 1, now);
}

void Engine::send(std::size_t i, const std::string& action, const Context& ctx, int attempt,
                  core::Millis now) {
    const Rule& r = m_rules[i];
    Pending p{i, action, ctx, attempt, now + r.confirm_ms, ++m_seq};
    std::string id;
    try {
        id = m_sender.send(r.device, r.actuator, action);
        ++m_counters.sent;
    } catch (const std::exception& e) {
        m_log.warn("{}: {} {} {}: not sent: {}", r.where, r.device, r.actuator, action,
                   core::printable(e.what()));
    }
    if (m_options.dry_run) {
        emit(p, id, now, "dry-run");
        return;
    }
    if (id.empty()) { // not published: it counts as a try without an answer
        id = fmt::format("unsent-{}", ++m_unsent);
        emit(p, id, now, "failed");
    } else {
        emit(p, id, now, "sent");
    }
    m_pending.emplace(std::move(id), std::move(p));
}

std::string Engine::room_of(const std::string& device, const Context& ctx) const {
    if (const auto it = m_rooms.find(device); it != m_rooms.end())
        return "in the " + it->second;
    (void)ctx;
    return "on " + device;
}

void Engine::emit(const Pending& p, std::string_view id, core::Millis now,
                  std::string_view status) {
    const Rule& r = m_rules[p.rule];
    const std::string where = room_of(r.device, p.ctx);
    const std::string title =
        fmt::format("{} the {} {}", capitalized(gerund(p.action)), noun(r.actuator), where);
    const std::string why = p.ctx.event == "resolve"
                                ? fmt::format("incident {} resolved", p.ctx.incident)
                                : fmt::format("of a {} alert ({}) in incident {}", r.kind,
                                              p.ctx.severity, p.ctx.incident);
    const std::string description = fmt::format(
        "Rule {} is {} the {} {} ({}) because {}; try {} of {}: {}.", r.where, gerund(p.action),
        noun(r.actuator), where, r.device, why, p.attempt, r.retries + 1, status);
    m_sink.action(record::action_json({.id = id,
                                       .ts = now,
                                       .device = r.device,
                                       .actuator = r.actuator,
                                       .action = p.action,
                                       .severity = p.ctx.severity,
                                       .title = title,
                                       .description = description,
                                       .incident = p.ctx.incident,
                                       .alert = p.ctx.alert,
                                       .location = p.ctx.location,
                                       .rule = r.where,
                                       .event = p.ctx.event,
                                       .attempt = p.attempt,
                                       .status = status}),
                  r.device);
}

void Engine::give_up(const Pending& p, std::string_view id, core::Millis now,
                     std::string_view why) {
    const Rule& r = m_rules[p.rule];
    const std::string where = room_of(r.device, p.ctx);
    const std::string title = capitalized(
        fmt::format("{} {} did not confirm {}", noun(r.actuator), where, gerund(p.action)));
    const std::string description =
        fmt::format("The {} {} did not confirm {}: {} (rule {}, command {}, incident {}).",
                    noun(r.actuator), where, gerund(p.action), why, r.where, id, p.ctx.incident);
    const std::string suggestion =
        fmt::format("Check the {} by hand now, then the node {}: its power, wiring and Wi-Fi.",
                    noun(r.actuator), r.device);
    const std::string alert_id = fmt::format("{}.unconfirmed", id);
    const std::array<std::string, 1> reasons{fmt::format("unconfirmed:{}", r.actuator)};
    m_sink.alert(record::alert_json({.id = alert_id,
                                     .ts = now,
                                     .device = r.device,
                                     .sensor = r.actuator,
                                     .severity = "HIGH",
                                     .text = {title, description, suggestion},
                                     .value = std::nullopt,
                                     .score = std::nullopt,
                                     .incident = p.ctx.incident,
                                     .source = "act",
                                     .event = "open",
                                     .location = p.ctx.location,
                                     .peak = "HIGH",
                                     .pattern = "actuator-fault",
                                     .reasons = reasons,
                                     .rules = {}}),
                 r.device);
    m_log.warn("{}", description);
}

void Engine::answer(const std::string& id, std::string_view status, core::Millis now) {
    if (status != "done" && status != "failed")
        return;
    const auto it = m_pending.find(id);
    if (it == m_pending.end())
        return; // a command given up on, or not ours
    const Pending p = std::move(it->second);
    m_pending.erase(it);
    if (status == "done") {
        ++m_counters.done;
        emit(p, id, now, "done");
        return;
    }
    ++m_counters.failed;
    emit(p, id, now, "failed");
    give_up(p, id, now, "the node answered that it failed");
}

void Engine::tick(core::Millis now) {
    std::vector<std::pair<std::string, Pending>> due;
    for (auto it = m_pending.begin(); it != m_pending.end();) {
        if (it->second.deadline <= now) {
            due.emplace_back(it->first, std::move(it->second));
            it = m_pending.erase(it);
        } else {
            ++it;
        }
    }
    std::sort(due.begin(), due.end(),
              [](const auto& a, const auto& b) { return a.second.seq < b.second.seq; });
    for (auto& [id, p] : due) {
        const Rule& r = m_rules[p.rule];
        if (p.attempt <= r.retries) {
            ++m_counters.retries;
            m_log.info("{}: no answer to command {} in {}: sending again (try {} of {})", r.where,
                       core::printable(id), core::format_duration(r.confirm_ms), p.attempt + 1,
                       r.retries + 1);
            send(p.rule, p.action, p.ctx, p.attempt + 1, now);
            continue;
        }
        ++m_counters.unconfirmed;
        emit(p, id, now, "unconfirmed");
        give_up(p, id, now,
                fmt::format("no answer after {} tr{}, {} each", r.retries + 1,
                            r.retries == 0 ? "y" : "ies", core::format_duration(r.confirm_ms)));
    }
    std::vector<Scheduled> ready;
    std::erase_if(m_scheduled, [&](Scheduled& s) {
        if (s.due > now)
            return false;
        ready.push_back(std::move(s));
        return true;
    });
    std::sort(ready.begin(), ready.end(),
              [](const Scheduled& a, const Scheduled& b) { return a.seq < b.seq; });
    for (const Scheduled& s : ready) {
        ++m_counters.then_sent;
        send(s.rule, m_rules[s.rule].then_action, s.ctx, 1, now);
    }
}

void Engine::end_of_input(core::Millis now) {
    for (Scheduled& s : m_scheduled)
        s.due = std::min(s.due, now);
    tick(now);
}

std::optional<core::Millis> Engine::next_due() const {
    std::optional<core::Millis> next;
    const auto earlier = [&](core::Millis t) {
        if (!next || t < *next)
            next = t;
    };
    for (const auto& [id, p] : m_pending)
        earlier(p.deadline);
    for (const Scheduled& s : m_scheduled)
        earlier(s.due);
    return next;
}

} // namespace iots::act
