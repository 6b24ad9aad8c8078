#pragma once
// The rules file of iots-act (man/iots-act.rules.5): one rule a line, what to send to which
// actuator when an incident of a kind opens or rises, with its conditions, limits and
// confirmation. Checked whole on load, safety interlocks included: a rule may never open a gas
// valve, silence a buzzer or alarm, or unlock or open a door, and two rules may not send opposite
// actions to one actuator on the same event. Pure: no I/O but load_rules()'s read of the file.
#include "iotshield/core/time.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iots::act {

// LOW 0, MEDIUM 1, HIGH 2, CRITICAL 3; nullopt for anything else (case-insensitive).
[[nodiscard]] std::optional<int> severity_rank(std::string_view name) noexcept;
[[nodiscard]] std::string_view severity_name(int rank) noexcept;

// Incident kinds a rule names: iots-alert's patterns (its "pattern" field) and the groups.
// hvac-failure stands for heat, cold and humidity; any for every kind.
[[nodiscard]] bool known_kind(std::string_view kind) noexcept;
[[nodiscard]] bool kind_matches(std::string_view rule_kind,
                                std::string_view incident_kind) noexcept;

// A window of local time, [start, end) in minutes after midnight; across midnight when end <=
// start.
struct Window {
    int start_min = 0;
    int end_min = 0;
    [[nodiscard]] bool contains(int minute_of_day) const noexcept {
        return start_min < end_min ? minute_of_day >= start_min && minute_of_day < end_min
                                   : minute_of_day >= start_min || minute_of_day < end_min;
    }
};

struct Rule {
    int line = 0;
    std::string where; // FILE:LINE, as action records and messages name it
    std::string kind;  // a known_kind()
    int min_severity = 0;
    enum class Scope { anywhere, device, room } scope = Scope::anywhere;
    std::string scope_name; // the device or the room
    std::string device;     // where the command goes
    std::string actuator;
    std::string action;
    core::Millis confirm_ms = 5000; // how long to wait for the node's answer to each try
    int retries = 2;                // tries after the first when no answer came
    core::Millis cooldown_ms = 0;   // after it fired, the rule rests this long
    int max_count = 0;              // at most max_count firings in any max_window_ms (0: no limit)
    core::Millis max_window_ms = 0;
    std::optional<Window> window;   // only at these local times
    core::Millis empty_ms = 0;      // only when no motion was seen in this long (0: no condition)
    std::string then_action;        // sent when the incident resolves (empty: none) ...
    core::Millis then_delay_ms = 0; // ... this long after
};

// Parses a whole rules file; `name` is the file's name in messages. Throws iots::Error(config)
// "NAME:LINE: why" for the first problem found, and for a file without any rule.
[[nodiscard]] std::vector<Rule> parse_rules(std::string_view text, std::string_view name);
// Reads and parses a file: Error(no_input) when it cannot be read.
[[nodiscard]] std::vector<Rule> load_rules(const std::string& path);

// True when the two rules can be set off by one event (kinds, scopes and severities overlap).
[[nodiscard]] bool same_event(const Rule& a, const Rule& b) noexcept;

} // namespace iots::act
