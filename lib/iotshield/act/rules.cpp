#include "iotshield/act/rules.hpp"

#include "iotshield/core/duration.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/core/printable.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace iots::act {

namespace {

constexpr std::array<std::string_view, 4> kSeverities{"LOW", "MEDIUM", "HIGH", "CRITICAL"};
constexpr std::array<std::string_view, 11> kKinds{
    "fire",     "gas-leak", "intrusion",    "hvac-failure", "heat", "cold",
    "humidity", "light",    "sensor-fault", "anomaly",      "any"};
constexpr std::string_view kKindList = "fire, gas-leak, intrusion, hvac-failure, heat, cold, "
                                       "humidity, light, sensor-fault, anomaly or any";

struct ActuatorSpec {
    std::string_view name;
    std::vector<std::string_view> actions;
};
const std::vector<ActuatorSpec> kActuatorSpecs{
    {"valve", {"open", "close", "toggle"}},
    {"fan", {"on", "off", "toggle"}},
    {"buzzer", {"on", "off", "toggle"}},
    {"relay", {"on", "off", "toggle"}},
    {"alarm", {"on", "off", "toggle"}},
    {"door", {"lock", "unlock", "open", "close", "toggle"}}};

// The interlocks: what no rule may do on its own, whatever the incident.
std::optional<std::string> forbidden(std::string_view actuator, std::string_view action) {
    if (actuator == "valve" && (action == "open" || action == "toggle"))
        return fmt::format("a rule may never open a gas valve ({} {})", actuator, action);
    if ((actuator == "buzzer" || actuator == "alarm") && (action == "off" || action == "toggle"))
        return fmt::format("a rule may never switch off a buzzer or an alarm ({} {})", actuator,
                           action);
    if (actuator == "door" && (action == "unlock" || action == "open" || action == "toggle"))
        return fmt::format("a rule may never unlock or open a door ({} {})", actuator, action);
    return std::nullopt;
}

bool digits(std::string_view s) noexcept {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool valid_name(std::string_view s) noexcept {
    if (s.empty() || s.size() > 64)
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
    });
}

std::string joined(const std::vector<std::string_view>& words) {
    std::string out;
    for (std::size_t i = 0; i < words.size(); ++i)
        out += fmt::format("{}{}", i == 0 ? "" : (i + 1 == words.size() ? " or " : ", "), words[i]);
    return out;
}

std::optional<int> clock_minutes(std::string_view t) noexcept {
    if (t.size() != 5 || t[2] != ':')
        return std::nullopt;
    for (const std::size_t i : {0U, 1U, 3U, 4U})
        if (t[i] < '0' || t[i] > '9')
            return std::nullopt;
    const int h = (t[0] - '0') * 10 + (t[1] - '0');
    const int m = (t[3] - '0') * 10 + (t[4] - '0');
    if (h > 23 || m > 59)
        return std::nullopt;
    return h * 60 + m;
}

// One line's words and the messages about them.
class LineParser {
public:
    LineParser(std::vector<std::string> words, std::string where)
        : m_words(std::move(words)), m_where(std::move(where)) {}

    [[noreturn]] void fail(const std::string& why) const {
        throw Error(Exit::config, fmt::format("{}: {}", m_where, why));
    }
    [[nodiscard]] bool done() const noexcept { return m_pos >= m_words.size(); }
    [[nodiscard]] std::string_view peek() const noexcept {
        return done() ? std::string_view{} : std::string_view(m_words[m_pos]);
    }
    std::string next(std::string_view what) {
        if (done())
            fail(fmt::format("missing {} at the end of the line", what));
        return m_words[m_pos++];
    }
    core::Millis duration(std::string_view what) {
        const std::string w = next(what);
        const auto ms = core::parse_duration(w);
        if (!ms)
            fail(fmt::format("{}: '{}' is not a duration (like 500ms, 30s, 5m, 2h)", what,
                             core::printable(w)));
        return *ms;
    }
    std::string name(std::string_view what) {
        std::string w = next(what);
        if (!valid_name(w))
            fail(fmt::format("{}: '{}' is not a name of 1-64 letters, digits, '_', '.' or '-'",
                             what, core::printable(w)));
        return w;
    }

private:
    std::vector<std::string> m_words;
    std::string m_where;
    std::size_t m_pos = 0;
};

void check_action(LineParser& p, std::string_view actuator, std::string_view action) {
    const auto it = std::find_if(kActuatorSpecs.begin(), kActuatorSpecs.end(),
                                 [&](const ActuatorSpec& s) { return s.name == actuator; });
    if (it == kActuatorSpecs.end())
        p.fail(fmt::format("unknown actuator '{}' (valve, fan, buzzer, relay, alarm or door)",
                           core::printable(actuator)));
    if (std::find(it->actions.begin(), it->actions.end(), action) == it->actions.end())
        p.fail(fmt::format("a {} takes {}, not '{}'", actuator, joined(it->actions),
                           core::printable(action)));
    if (const auto why = forbidden(actuator, action))
        p.fail("refused: " + *why);
}

Rule parse_line(LineParser& p, int line, std::string where) {
    Rule r;
    r.line = line;
    r.where = std::move(where);
    if (p.next("'when'") != "when")
        p.fail("a rule starts with 'when KIND' (like: when gas-leak >= HIGH in kitchen do "
               "esp32-kitchen valve close)");
    r.kind = p.next("an incident kind");
    if (!known_kind(r.kind))
        p.fail(fmt::format("unknown incident kind '{}' ({})", core::printable(r.kind), kKindList));
    if (p.peek() == ">=") {
        p.next(">=");
        const std::string s = p.next("a severity after '>='");
        const auto rank = severity_rank(s);
        if (!rank)
            p.fail(fmt::format("unknown severity '{}' (LOW, MEDIUM, HIGH or CRITICAL)",
                               core::printable(s)));
        r.min_severity = *rank;
    }
    if (p.peek() == "on") {
        p.next("on");
        r.scope = Rule::Scope::device;
        r.scope_name = p.name("the device after 'on'");
    } else if (p.peek() == "in") {
        p.next("in");
        r.scope = Rule::Scope::room;
        r.scope_name = p.name("the room after 'in'");
    }
    if (p.done() || p.peek() != "do")
        p.fail(p.done() ? std::string("missing 'do DEVICE ACTUATOR ACTION'")
                        : fmt::format("expected 'do DEVICE ACTUATOR ACTION', not '{}'",
                                      core::printable(p.peek())));
    p.next("do");
    r.device = p.name("the device after 'do'");
    r.actuator = p.next("the actuator after 'do DEVICE'");
    r.action = p.next("the action after 'do DEVICE ACTUATOR'");
    check_action(p, r.actuator, r.action);

    std::vector<std::string> seen;
    while (!p.done()) {
        const std::string word = p.next("an option");
        if (std::find(seen.begin(), seen.end(), word) != seen.end())
            p.fail(fmt::format("'{}' given twice", word));
        seen.push_back(word);
        if (word == "confirm") {
            r.confirm_ms = p.duration("confirm");
            if (r.confirm_ms <= 0)
                p.fail("confirm: the time to wait for an answer must be above zero");
        } else if (word == "retries") {
            const std::string n = p.next("the number after 'retries'");
            if (n.size() > 2 || !digits(n) || std::stoi(n) > 10)
                p.fail(
                    fmt::format("retries: '{}' is not a number from 0 to 10", core::printable(n)));
            r.retries = std::stoi(n);
        } else if (word == "cooldown") {
            r.cooldown_ms = p.duration("cooldown");
        } else if (word == "max") {
            const std::string m = p.next("'N/DURATION' after 'max'");
            const auto slash = m.find('/');
            const std::string n = m.substr(0, slash);
            std::string per = slash == std::string::npos ? "" : m.substr(slash + 1);
            if (!per.empty() && per[0] >= 'a' && per[0] <= 'z')
                per.insert(0, "1"); // max 3/h
            const auto window = core::parse_duration(per);
            if (slash == std::string::npos || n.size() > 6 || !digits(n) || std::stoi(n) == 0 ||
                !window || *window <= 0)
                p.fail(fmt::format("max: '{}' is not a count per duration (like 4/1h)",
                                   core::printable(m)));
            r.max_count = std::stoi(n);
            r.max_window_ms = *window;
        } else if (word == "between") {
            const std::string a = p.next("a time after 'between'");
            if (p.next("'and' after 'between HH:MM'") != "and")
                p.fail("between: write 'between HH:MM and HH:MM'");
            const std::string b = p.next("a time after 'and'");
            const auto s = clock_minutes(a), e = clock_minutes(b);
            if (!s || !e)
                p.fail(fmt::format("between: '{}' and '{}' must be times of day like 22:00",
                                   core::printable(a), core::printable(b)));
            if (*s == *e)
                p.fail("between: the window is empty (the same start and end)");
            r.window = Window{*s, *e};
        } else if (word == "if") {
            if (p.next("'empty' after 'if'") != "empty")
                p.fail("if: the only condition is 'if empty DURATION' (no motion in that long)");
            r.empty_ms = p.duration("if empty");
            if (r.empty_ms <= 0)
                p.fail("if empty: the time without motion must be above zero");
        } else if (word == "then") {
            r.then_action = p.next("the action after 'then'");
            check_action(p, r.actuator, r.then_action);
            if (p.peek() == "after") {
                p.next("after");
                r.then_delay_ms = p.duration("then ... after");
            }
        } else {
            p.fail(fmt::format("unknown word '{}' (confirm, retries, cooldown, max, between, if, "
                               "then)",
                               core::printable(word)));
        }
    }
    return r;
}

bool scopes_overlap(const Rule& a, const Rule& b) noexcept {
    if (a.scope == Rule::Scope::anywhere || b.scope == Rule::Scope::anywhere)
        return true;
    if (a.scope != b.scope)
        return true; // a device may be in the room: it cannot be told here
    return a.scope_name == b.scope_name;
}

} // namespace

std::optional<int> severity_rank(std::string_view name) noexcept {
    for (std::size_t i = 0; i < kSeverities.size(); ++i) {
        const auto s = kSeverities[i];
        if (s.size() == name.size() &&
            std::equal(s.begin(), s.end(), name.begin(), [](char a, char b) {
                return a == ((b >= 'a' && b <= 'z') ? static_cast<char>(b - 'a' + 'A') : b);
            }))
            return static_cast<int>(i);
    }
    return std::nullopt;
}

std::string_view severity_name(int rank) noexcept {
    return kSeverities[static_cast<std::size_t>(std::clamp(rank, 0, 3))];
}

bool known_kind(std::string_view kind) noexcept {
    return std::find(kKinds.begin(), kKinds.end(), kind) != kKinds.end();
}

bool kind_matches(std::string_view rule_kind, std::string_view incident_kind) noexcept {
    if (rule_kind == "any" || rule_kind == incident_kind)
        return true;
    return rule_kind == "hvac-failure" &&
           (incident_kind == "heat" || incident_kind == "cold" || incident_kind == "humidity");
}

bool same_event(const Rule& a, const Rule& b) noexcept {
    const bool kinds = kind_matches(a.kind, b.kind) || kind_matches(b.kind, a.kind);
    return kinds && scopes_overlap(a, b);
}

std::vector<Rule> parse_rules(std::string_view text, std::string_view name) {
    std::vector<Rule> rules;
    int line = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto eol = std::min(text.find('\n', pos), text.size());
        std::string_view raw = text.substr(pos, eol - pos);
        pos = eol + 1;
        ++line;
        if (const auto hash = raw.find('#'); hash != std::string_view::npos)
            raw = raw.substr(0, hash);
        std::vector<std::string> words;
        std::istringstream in{std::string(raw)};
        for (std::string w; in >> w;)
            words.push_back(std::move(w));
        if (words.empty()) {
            if (eol == text.size())
                break;
            continue;
        }
        std::string where = fmt::format("{}:{}", name, line);
        LineParser p(std::move(words), where);
        Rule r = parse_line(p, line, where);
        for (const Rule& o : rules) {
            if (o.device == r.device && o.actuator == r.actuator && o.action != r.action &&
                same_event(o, r))
                p.fail(fmt::format("conflicts with line {}: {} {} {} here and {} there on the "
                                   "same event",
                                   o.line, r.device, r.actuator, r.action, o.action));
        }
        rules.push_back(std::move(r));
        if (eol == text.size())
            break;
    }
    if (rules.empty())
        throw Error(Exit::config, fmt::format("{}: no rule in the file", name));
    return rules;
}

std::vector<Rule> load_rules(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f)
        throw Error(Exit::no_input, fmt::format("--rules {}: cannot read: {}",
                                                core::printable(path), std::strerror(errno)));
    std::ostringstream text;
    text << f.rdbuf();
    return parse_rules(text.str(), path);
}

} // namespace iots::act
