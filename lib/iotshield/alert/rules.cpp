#include "iotshield/alert/rules.hpp"

#include "iotshield/record/sensor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace iots::alert {

using record::SensorKind;

std::optional<NormalRange> normal_range(std::string_view sensor) noexcept {
    switch (record::sensor_kind(sensor)) {
    case SensorKind::temperature:
        return NormalRange{16, 28};
    case SensorKind::humidity:
        return NormalRange{30, 60};
    case SensorKind::gas:
        return NormalRange{0, 300};
    case SensorKind::flame:
        return NormalRange{0, 0};
    case SensorKind::motion:
        return NormalRange{0, 0}; // when nobody is expected: the detector flags it otherwise
    case SensorKind::light:
        return NormalRange{0, 1000};
    case SensorKind::other:
        break;
    }
    return std::nullopt;
}

std::string_view pattern_name(Pattern p) noexcept {
    switch (p) {
    case Pattern::fire:
        return "fire";
    case Pattern::gas_danger:
    case Pattern::gas:
        return "gas-leak";
    case Pattern::heat_danger:
    case Pattern::heat:
        return "heat";
    case Pattern::cold:
        return "cold";
    case Pattern::humid:
    case Pattern::dry:
        return "humidity";
    case Pattern::intrusion:
        return "intrusion";
    case Pattern::light:
        return "light";
    case Pattern::sensor_fault:
        return "sensor-fault";
    case Pattern::anomaly:
        return "anomaly";
    }
    return "anomaly";
}

namespace {

bool fault_only(const SensorSnapshot& s) {
    return !s.reasons.empty() &&
           std::all_of(s.reasons.begin(), s.reasons.end(), [](const std::string& c) {
               return c == "stuck" || c == "spike" || c == "gap";
           });
}

const SensorSnapshot* of_kind(const Incident& inc, SensorKind kind, bool allow_fault = false) {
    for (const auto& s : inc.sensors)
        if (record::sensor_kind(s.sensor) == kind && (allow_fault || !fault_only(s)))
            return &s;
    return nullptr;
}

std::string where(const Incident& inc) {
    return inc.location.empty() ? fmt::format("on device {}", inc.device)
                                : fmt::format("in the {}", inc.location);
}

std::string capitalized(std::string s) {
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z')
        s[0] = static_cast<char>(s[0] - 'a' + 'A');
    return s;
}

std::string duration_words(core::Millis ms) {
    const auto minutes = ms / 60000;
    if (minutes < 1)
        return "under a minute";
    if (minutes == 1)
        return "1 minute";
    if (minutes < 120)
        return fmt::format("{} minutes", minutes);
    return fmt::format("{} h {} min", minutes / 60, minutes % 60);
}

std::string readings_sentence(const Incident& inc, std::string_view lead = "Readings: ") {
    std::string out(lead);
    bool first = true;
    for (const auto& s : inc.sensors) {
        if (!first)
            out += ", ";
        first = false;
        out += fmt::format("{} {}", s.sensor, format_value(s.sensor, s.value));
        if (const auto range = format_range(s.sensor); !range.empty())
            out += fmt::format(" (normal {})", range);
    }
    out += ".";
    return out;
}

double max_score(const Incident& inc) {
    double m = 0;
    for (const auto& s : inc.sensors)
        m = std::max(m, s.score);
    return m;
}

std::string fault_words(const SensorSnapshot& s) {
    const auto has = [&](std::string_view c) {
        return std::find(s.reasons.begin(), s.reasons.end(), c) != s.reasons.end();
    };
    if (has("stuck"))
        return fmt::format("it keeps reporting the same value ({})",
                           format_value(s.sensor, s.value));
    if (has("spike"))
        return fmt::format("it reported an implausible jump to {}",
                           format_value(s.sensor, s.value));
    return "it stopped reporting for a while";
}

// What is unusual about a reading: past its normal range, say so ("higher than usual"); inside
// it, say what the detector saw instead, since the value itself is not abnormal.
std::string unusual(const SensorSnapshot& s, std::string_view past_high,
                    std::string_view past_low) {
    if (const auto r = normal_range(s.sensor); r) {
        if (s.value > r->high)
            return std::string(past_high);
        if (s.value < r->low)
            return std::string(past_low);
    }
    const auto has = [&](std::string_view c) {
        return std::find(s.reasons.begin(), s.reasons.end(), c) != s.reasons.end();
    };
    std::string_view what = "it is unusual for this room";
    if (has("threshold:ror"))
        what = "it is rising fast";
    else if (has("spike"))
        what = "it changed suddenly";
    else if (has("level"))
        what = "it moved away from its usual level";
    else if (has("daily") || has("profile") || has("activity"))
        what = "it is unusual for this time of day";
    else if (has("volatility"))
        what = "it is varying more than usual";
    else if (has("joint"))
        what = "it does not fit the room's other readings";
    const auto range = format_range(s.sensor);
    return range.empty() ? std::string(what)
                         : fmt::format("inside its normal range ({}), but {}", range, what);
}

struct Words {
    std::string title;
    std::string lead;
    std::string suggestion;
    std::string resolved; // "fire", "gas leak" ... for the resolve title
};

Words words_for(Pattern p, const Incident& inc, const SensorSnapshot& trig,
                const SeverityPolicy& policy) {
    const std::string w = where(inc);
    const auto v = [&](const SensorSnapshot* s) {
        return s != nullptr ? format_value(s->sensor, s->value) : std::string("?");
    };
    switch (p) {
    case Pattern::fire: {
        const auto* flame = of_kind(inc, SensorKind::flame);
        return {
            fmt::format("Fire detected {}", w),
            flame != nullptr && flame->severity == Severity::critical
                ? fmt::format("The flame sensor sees an open flame {}.", w)
                : fmt::format("Heat and gas are rising together {}, which points to a fire.", w),
            "Get everyone out now and call the fire brigade (112 in Europe, 911 in North "
            "America). Close doors behind you and do not go back in. Use an extinguisher "
            "only on a small fire with your way out clear.",
            "fire"};
    }
    case Pattern::gas_danger:
        return {fmt::format("Dangerous gas level {}", w),
                fmt::format("Gas has reached {} {}, at or above the danger level of {:.0f} ppm.",
                            v(of_kind(inc, SensorKind::gas)), w, policy.gas_danger_ppm),
                "Do not switch lights or appliances on or off and do not light anything. Open "
                "windows on your way out, leave the home and call the gas emergency number "
                "from outside.",
                "gas leak"};
    case Pattern::gas: {
        const auto* gas = of_kind(inc, SensorKind::gas);
        const bool high = gas != nullptr && gas->value > normal_range(gas->sensor)->high;
        return {high ? fmt::format("Gas level rising {}", w)
                     : fmt::format("Unusual gas reading {}", w),
                fmt::format("Gas reads {} {}, {}.", v(gas), w,
                            gas != nullptr ? unusual(*gas, "higher than normal", "")
                                           : std::string("higher than normal")),
                "Check for a gas smell, an unlit burner or a leaking cylinder and air the room. "
                "If the level keeps rising, leave and call the gas emergency number.",
                "gas leak"};
    }
    case Pattern::heat_danger:
        return {fmt::format("Dangerous heat {}", w),
                fmt::format("Temperature has reached {} {}, the level at which heat detectors "
                            "trip ({:.0f} °C).",
                            v(of_kind(inc, SensorKind::temperature)), w, policy.heat_danger_c),
                "Check the room for fire or an overheating appliance at once. If you see smoke "
                "or flames, leave and call the fire brigade.",
                "dangerous heat"};
    case Pattern::heat: {
        const auto* t = of_kind(inc, SensorKind::temperature);
        const bool high = t != nullptr && t->value > normal_range(t->sensor)->high;
        return {high ? fmt::format("Unusually high temperature {}", w)
                     : fmt::format("Unusual temperature {}", w),
                fmt::format("Temperature is {} {}, {}.", v(t), w,
                            t != nullptr ? unusual(*t, "higher than usual", "lower than usual")
                                         : std::string("higher than usual")),
                "Check the heating, the thermostat and any appliance left on; close the blinds "
                "if the sun heats the room. If nothing explains it, look for smoke.",
                high ? "high temperature" : "unusual temperature"};
    }
    case Pattern::cold:
        return {fmt::format("Unusually low temperature {}", w),
                fmt::format("Temperature is {} {}, lower than usual.",
                            v(of_kind(inc, SensorKind::temperature)), w),
                "Check the heating and the thermostat, and whether a window or door was left "
                "open. Protect water pipes from freezing if it keeps falling.",
                "low temperature"};
    case Pattern::humid: {
        const auto* h = of_kind(inc, SensorKind::humidity);
        const bool high = h != nullptr && h->value > normal_range(h->sensor)->high;
        return {high ? fmt::format("High humidity {}", w) : fmt::format("Unusual humidity {}", w),
                fmt::format("Humidity is {} {}, {}.", v(h), w,
                            h != nullptr ? unusual(*h, "higher than usual", "lower than usual")
                                         : std::string("higher than usual")),
                "Air the room and look for a water leak, a running shower or drying laundry; "
                "humidity that stays high breeds mould.",
                high ? "high humidity" : "unusual humidity"};
    }
    case Pattern::dry:
        return {fmt::format("Very dry air {}", w),
                fmt::format("Humidity is {} {}, lower than usual.",
                            v(of_kind(inc, SensorKind::humidity)), w),
                "Check the heating setting; a humidifier or a bowl of water near the radiator "
                "helps.",
                "dry air"};
    case Pattern::intrusion:
        return {fmt::format("Unexpected motion {}", w),
                fmt::format("Motion was detected {} when none was expected.", w),
                "Check the camera or ask someone at home. If nobody should be there, do not go "
                "in alone: call the police.",
                "unexpected motion"};
    case Pattern::light:
        return {fmt::format("Unusual light {}", w),
                fmt::format("The light level is {} {}, unusual for this time.",
                            v(of_kind(inc, SensorKind::light)), w),
                "Check whether a light was left on, a door or curtain was opened, or someone is "
                "in the room.",
                "unusual light"};
    case Pattern::sensor_fault:
        return {
            fmt::format("{} sensor may be faulty {}", capitalized(trig.sensor), w),
            fmt::format("The {} sensor {} looks faulty: {}.", trig.sensor, w, fault_words(trig)),
            fmt::format("Check the {} sensor's power, battery, wiring and Wi-Fi, and replace "
                        "it if it does not recover: until then it cannot warn you.",
                        trig.sensor),
            "sensor fault"};
    case Pattern::anomaly:
        break;
    }
    return {fmt::format("Unusual {} readings {}", trig.sensor, w),
            fmt::format("The {} reading of {} {} is unusual.", trig.sensor,
                        format_value(trig.sensor, trig.value), w),
            "Look at the device and the room. If everything looks right, no action is needed; "
            "the detector will learn from more data.",
            fmt::format("unusual {} readings", trig.sensor)};
}

} // namespace

Pattern classify(const Incident& inc, std::string_view trigger_sensor,
                 const SeverityPolicy& policy) noexcept {
    const auto* flame = of_kind(inc, SensorKind::flame);
    const auto* gas = of_kind(inc, SensorKind::gas);
    const auto* temp = of_kind(inc, SensorKind::temperature);
    const auto critical = [](const SensorSnapshot* s) {
        return s != nullptr && s->severity == Severity::critical;
    };
    if (critical(flame))
        return Pattern::fire;
    if (temp != nullptr && gas != nullptr &&
        (critical(temp) || temp->value >= policy.heat_danger_c * 0.8))
        return Pattern::fire; // smoke and heat together
    if (critical(gas))
        return Pattern::gas_danger;
    if (critical(temp))
        return Pattern::heat_danger;
    if (gas != nullptr)
        return Pattern::gas;
    if (temp != nullptr) {
        const auto r = normal_range(temp->sensor);
        return temp->value < r->low ? Pattern::cold : Pattern::heat;
    }
    if (const auto* h = of_kind(inc, SensorKind::humidity); h != nullptr)
        return h->value < normal_range(h->sensor)->low ? Pattern::dry : Pattern::humid;
    if (of_kind(inc, SensorKind::motion) != nullptr)
        return Pattern::intrusion;
    if (of_kind(inc, SensorKind::light) != nullptr)
        return Pattern::light;
    const auto* trig = inc.find(trigger_sensor);
    if (trig != nullptr && fault_only(*trig))
        return Pattern::sensor_fault;
    bool all_faults = !inc.sensors.empty();
    for (const auto& s : inc.sensors)
        all_faults = all_faults && fault_only(s);
    return all_faults ? Pattern::sensor_fault : Pattern::anomaly;
}

std::string format_value(std::string_view sensor, double value) {
    switch (record::sensor_kind(sensor)) {
    case SensorKind::temperature:
        return fmt::format("{:.1f} °C", value);
    case SensorKind::humidity:
        return fmt::format("{:.0f} %", value);
    case SensorKind::gas:
        return fmt::format("{:.0f} ppm", value);
    case SensorKind::light:
        return fmt::format("{:.0f} lux", value);
    case SensorKind::flame:
    case SensorKind::motion:
        return value >= 0.5 ? "1" : "0";
    case SensorKind::other:
        break;
    }
    return fmt::format("{:g}", value);
}

std::string format_range(std::string_view sensor) {
    const auto r = normal_range(sensor);
    if (!r)
        return {};
    switch (record::sensor_kind(sensor)) {
    case SensorKind::temperature:
        return fmt::format("{:.0f} to {:.0f} °C", r->low, r->high);
    case SensorKind::humidity:
        return fmt::format("{:.0f} to {:.0f} %", r->low, r->high);
    case SensorKind::gas:
        return fmt::format("up to {:.0f} ppm", r->high);
    case SensorKind::light:
        return fmt::format("up to {:.0f} lux", r->high);
    default:
        return "0";
    }
}

Text narrate(const Event& e, const SeverityPolicy& policy, core::Millis quiet_ms) {
    const Incident& inc = e.incident;
    SensorSnapshot fallback;
    fallback.sensor = e.sensor;
    const SensorSnapshot* trig = inc.find(e.sensor);
    if (trig == nullptr)
        trig = &fallback;
    const Pattern p = classify(inc, e.sensor, policy);
    Words w = words_for(p, inc, *trig, policy);
    const std::string device =
        inc.location.empty() ? std::string() : fmt::format(" Device {}.", inc.device);
    Text t;
    if (e.kind == EventKind::resolve) {
        t.title = fmt::format("Resolved: {} {}", w.resolved, where(inc));
        t.description = fmt::format(
            "No anomalous reading for {}. The incident lasted {} and peaked at {}.{} {}",
            duration_words(quiet_ms), duration_words(inc.last_ts - inc.opened_ts),
            severity_name(inc.severity), device, readings_sentence(inc, "Last readings: "));
        t.suggestion = p == Pattern::fire || p == Pattern::gas_danger || p == Pattern::heat_danger
                           ? "Make sure the danger is over and air the home before going back "
                             "in; have the sensors and appliances checked."
                           : "No action is needed now. If you have not found the cause yet, "
                             "check the device and the room: it may come back.";
    } else {
        std::string prefix;
        if (e.kind == EventKind::raise)
            prefix = fmt::format("Severity raised from {} to {}. ", severity_name(e.previous),
                                 severity_name(inc.severity));
        t.title = std::move(w.title);
        t.description = fmt::format("{}{}{} {} Anomaly score {:.2f}; the incident has lasted {}.",
                                    prefix, w.lead, device, readings_sentence(inc), max_score(inc),
                                    duration_words(inc.last_ts - inc.opened_ts));
        t.suggestion = std::move(w.suggestion);
    }
    if (t.title.size() > 80) { // a long device or room name: keep titles short for notifications
        t.title.resize(77);
        while (!t.title.empty() && (static_cast<unsigned char>(t.title.back()) & 0xC0) == 0x80)
            t.title.pop_back(); // never cut a UTF-8 sequence in half
        if (!t.title.empty() && static_cast<unsigned char>(t.title.back()) >= 0xC0)
            t.title.pop_back();
        t.title += "...";
    }
    return t;
}

} // namespace iots::alert
