#include "iotshield/alert/alert.hpp"

#include "iotshield/record/alert.hpp"

namespace iots::alert {

Alert make_alert(const Event& e, Text rules_text) {
    Alert a;
    a.id = e.alert_id;
    a.ts = e.ts;
    a.device = e.incident.device;
    a.location = e.incident.location;
    a.sensor = e.sensor;
    a.incident = e.incident.id;
    a.event = e.kind;
    a.peak = e.incident.severity;
    a.severity = e.kind == EventKind::resolve ? Severity::low : e.incident.severity;
    if (const auto* s = e.incident.find(e.sensor); s != nullptr) {
        a.value = s->value;
        a.score = s->score;
        a.reasons = s->reasons;
    }
    a.text = rules_text;
    a.rules = std::move(rules_text);
    return a;
}

std::string to_json(const Alert& a) {
    const auto view = [](const Text& t) {
        return record::AlertText{t.title, t.description, t.suggestion};
    };
    return record::alert_json(record::AlertRecord{.id = a.id,
                                                  .ts = a.ts,
                                                  .device = a.device,
                                                  .sensor = a.sensor,
                                                  .severity = severity_name(a.severity),
                                                  .text = view(a.text),
                                                  .value = a.value,
                                                  .score = a.score,
                                                  .incident = a.incident,
                                                  .source = a.source,
                                                  .event = event_name(a.event),
                                                  .location = a.location,
                                                  .peak = severity_name(a.peak),
                                                  .pattern = a.pattern,
                                                  .reasons = a.reasons,
                                                  .rules = view(a.rules)});
}

} // namespace iots::alert
