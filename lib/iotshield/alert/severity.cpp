#include "iotshield/alert/severity.hpp"

#include "iotshield/record/sensor.hpp"

#include <algorithm>
#include <array>

namespace iots::alert {

namespace {
constexpr std::array<std::string_view, 4> kNames{"LOW", "MEDIUM", "HIGH", "CRITICAL"};

bool has_reason(const record::Reading& r, std::string_view code) noexcept {
    return std::find(r.reasons.begin(), r.reasons.end(), code) != r.reasons.end();
}

Severity raise(Severity s, int levels, Severity cap) noexcept {
    const int v = std::min(static_cast<int>(s) + levels, static_cast<int>(cap));
    return std::max(s, static_cast<Severity>(v));
}
} // namespace

std::string_view severity_name(Severity s) noexcept {
    return kNames[static_cast<std::size_t>(s)];
}

std::optional<Severity> parse_severity(std::string_view text) noexcept {
    for (std::size_t i = 0; i < kNames.size(); ++i) {
        const auto name = kNames[i];
        if (name.size() == text.size() &&
            std::equal(name.begin(), name.end(), text.begin(), [](char a, char b) {
                return a == (b >= 'a' && b <= 'z' ? static_cast<char>(b - 'a' + 'A') : b);
            }))
            return static_cast<Severity>(i);
    }
    return std::nullopt;
}

bool is_hazard(const record::Reading& r, const SeverityPolicy& p) noexcept {
    switch (record::sensor_kind(r.sensor)) {
    case record::SensorKind::flame:
        return r.value >= 0.5 || has_reason(r, "threshold:flame");
    case record::SensorKind::gas:
        return r.value >= p.gas_danger_ppm;
    case record::SensorKind::temperature:
        return r.value >= p.heat_danger_c;
    default:
        return false;
    }
}

bool is_sensor_fault(const record::Reading& r) noexcept {
    if (r.reasons.empty())
        return false;
    return std::all_of(r.reasons.begin(), r.reasons.end(), [](const std::string& c) {
        return c == "stuck" || c == "spike" || c == "gap";
    });
}

Severity reading_severity(const record::Reading& r, const SeverityPolicy& p) noexcept {
    if (is_hazard(r, p))
        return Severity::critical;
    const auto kind = record::sensor_kind(r.sensor);
    const bool safety_sensor = kind == record::SensorKind::flame ||
                               kind == record::SensorKind::gas ||
                               kind == record::SensorKind::temperature;
    if (is_sensor_fault(r)) // a blind smoke or heat sensor matters more than a blind lux meter
        return safety_sensor ? Severity::medium : Severity::low;
    if (has_reason(r, "threshold:ror") || has_reason(r, "threshold:heat") ||
        has_reason(r, "threshold:gas"))
        return Severity::high; // rising fast or past the detector's threshold, not yet at danger
    const double score = r.score.value_or(0.0);
    Severity s = score >= p.score_high     ? Severity::high
                 : score >= p.score_medium ? Severity::medium
                                           : Severity::low;
    switch (kind) {
    case record::SensorKind::gas:    // any unexplained gas reading deserves a look
    case record::SensorKind::motion: // possible intrusion
        s = std::max(s, Severity::medium);
        break;
    case record::SensorKind::light: // light alone is never urgent
        s = std::min(s, Severity::medium);
        break;
    default:
        break;
    }
    return s;
}

Severity incident_severity(Severity peak_reading, core::Millis duration_ms,
                           std::size_t anomalous_sensors, const SeverityPolicy& p) noexcept {
    int bump = 0;
    if (p.escalate_after_ms > 0 && duration_ms >= p.escalate_after_ms)
        ++bump;
    if (anomalous_sensors >= 2)
        ++bump;
    return raise(peak_reading, bump, Severity::high);
}

} // namespace iots::alert
