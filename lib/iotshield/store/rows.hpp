#pragma once
// The row types of the tables that more than one consumer reads or writes (schema.hpp), each with
// its one mapper from a SELECT of its column list: `alerts` (written by iots-alert, read and
// changed by iots-serve) and `commands` (iots-serve's control service and its queries).
#include "iotshield/store/database.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace iots::store {

// A column that may be NULL.
[[nodiscard]] std::optional<std::int64_t> opt_int(const Statement& st, int col);

// One row of `alerts`: one per alert id. The rules text is written once, in rules_*;
// title/description/suggestion hold what is shown, and a language-model update replaces only
// those (and may raise the severity), so the dashboard can show both side by side.
struct AlertRow {
    std::int64_t rowid = 0; // read only; the live stream's cursor
    std::string id;
    std::int64_t ts = 0;
    std::optional<std::int64_t> updated_ts; // insert: none means ts
    std::string device, sensor, severity;
    std::string title, description, suggestion;
    std::string rules_title, rules_description, rules_suggestion;
    std::optional<double> value, score;
    std::string incident;
    std::string source = "rules";
    std::string status = "new"; // new | acknowledged | resolved
    std::string json;           // the alert record as sent
};

// "SELECT " + kAlertSelect + "WHERE ...": the columns alert_row() reads, from `alerts`.
extern const char* const kAlertSelect;
[[nodiscard]] AlertRow alert_row(const Statement& st);

// One row of `commands`: a command sent to an actuator and the device's answer.
struct CommandRow {
    std::string id;
    std::int64_t ts = 0;
    std::string device, actuator, action, status;
    std::optional<std::int64_t> ack_ts, latency_ms;
};

// "SELECT " + kCommandSelect + "WHERE ...": the columns command_row() reads, from `commands`.
extern const char* const kCommandSelect;
// The same columns without FROM, for RETURNING.
extern const char* const kCommandColumns;
[[nodiscard]] CommandRow command_row(const Statement& st);

} // namespace iots::store
