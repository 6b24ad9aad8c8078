#include "iotshield/adapt/formats.hpp"
#include "iotshield/core/printable.hpp"

#include "iotshield/record/sensor.hpp"
#include "iotshield/record/serialize.hpp"

#include <cmath>
#include <fmt/format.h>

namespace iots::adapt::detail {

std::string safe_name(std::string_view raw) {
    std::string s;
    s.reserve(std::min<std::size_t>(raw.size(), 64));
    for (const char c : raw) {
        if (s.size() == 64)
            break;
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        // A multi-byte UTF-8 character becomes one '_', not one per byte.
        if (!ok && (static_cast<unsigned char>(c) & 0xC0) == 0x80)
            continue;
        s.push_back(ok ? c : '_');
    }
    return s;
}

std::string sensor_name(std::string_view raw) {
    std::string s = safe_name(raw);
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return s;
}

void add_reading(Result& out, std::string_view device, std::string_view sensor, double value,
                 std::string_view unit, core::Millis ts, std::string_view what) {
    record::Reading r;
    r.ts = ts;
    r.device = device;
    r.sensor = sensor;
    r.value = value;
    if (const auto info = record::sensor_info(sensor))
        r.unit = info->unit;
    else
        r.unit = unit;
    if (std::string reason = record::validate(r); !reason.empty()) {
        out.problems.push_back(fmt::format("{}: {}", core::printable(what), reason));
        return;
    }
    out.readings.push_back(std::move(r));
}

double fahrenheit_to_celsius(double f) noexcept {
    // To the micro-degree: 71.6 °F is 22 °C, not 21.999999999999996.
    return std::nearbyint((f - 32.0) * 5.0 / 9.0 * 1e6) / 1e6;
}

bool is_fahrenheit(std::string_view unit) noexcept {
    return unit == "F" ||
           unit == "\xC2\xB0"
                   "F" ||
           unit == "degF" || unit == "fahrenheit" || unit == "FAHRENHEIT";
}

std::string_view status_word(std::string_view p) noexcept {
    while (!p.empty() && (p.back() == ' ' || p.back() == '\n' || p.back() == '\r'))
        p.remove_suffix(1);
    auto same = [](std::string_view a, std::string_view b) {
        if (a.size() != b.size())
            return false;
        for (std::size_t i = 0; i < a.size(); ++i) {
            char c = a[i];
            if (c >= 'A' && c <= 'Z')
                c = static_cast<char>(c - 'A' + 'a');
            if (c != b[i])
                return false;
        }
        return true;
    };
    if (same(p, "online"))
        return "online";
    if (same(p, "offline"))
        return "offline";
    return {};
}

bool parse_object(std::string_view payload, nlohmann::ordered_json& into, Result& out) {
    into = nlohmann::ordered_json::parse(payload, nullptr, false);
    if (into.is_discarded()) {
        out.problems.emplace_back("not valid JSON");
        return false;
    }
    if (!into.is_object()) {
        out.problems.emplace_back("not a JSON object");
        return false;
    }
    return true;
}

std::string_view json_type_name(const nlohmann::ordered_json& v) noexcept {
    using T = nlohmann::ordered_json::value_t;
    switch (v.type()) {
    case T::object:
        return "an object";
    case T::array:
        return "an array";
    case T::string:
        return "a string";
    case T::boolean:
        return "a boolean";
    case T::null:
        return "null";
    default:
        return "a number";
    }
}

std::string quote_text(std::string_view text) {
    if (text.size() > 40) {
        std::size_t cut = 40;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
            --cut;
        text = text.substr(0, cut);
    }
    std::string s;
    record::append_json_string(text, s);
    return s;
}

core::Millis local_to_utc(core::Millis local, const Options& options) {
    if (options.utc_offset_s)
        return local - 1000LL * *options.utc_offset_s;
    // The offset in effect at the instant that local time names: guessed from the offset at
    // local-as-UTC, then taken at the guess (right except in the hour a clock change repeats or
    // skips, where either reading is a wall time of that hour).
    const core::Millis guess = local - 1000LL * options.zone.offset_s(local);
    return local - 1000LL * options.zone.offset_s(guess);
}

} // namespace iots::adapt::detail
