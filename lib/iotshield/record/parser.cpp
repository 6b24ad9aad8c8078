#include "iotshield/record/parser.hpp"

#include "iotshield/record/sensor.hpp"
#include "iotshield/record/serialize.hpp"

#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <fmt/format.h>

namespace iots::record {

namespace od = simdjson::ondemand;

struct Parser::Impl {
    od::parser parser;
    std::string padded;
};

namespace {

constexpr std::size_t kMaxTextField = 128;

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

std::string_view type_name(od::json_type t) noexcept {
    switch (t) {
    case od::json_type::array:
        return "an array";
    case od::json_type::object:
        return "an object";
    case od::json_type::number:
        return "a number";
    case od::json_type::string:
        return "a string";
    case od::json_type::boolean:
        return "a boolean";
    case od::json_type::null:
        return "null";
    }
    return "unknown";
}

bool looks_non_finite(std::string_view token) noexcept {
    if (!token.empty() && (token.front() == '-' || token.front() == '+'))
        token.remove_prefix(1);
    return token.starts_with("NaN") || token.starts_with("nan") || token.starts_with("Inf") ||
           token.starts_with("inf");
}

// Epoch milliseconds from a JSON number: integers as milliseconds; for the legacy shape, numbers
// below 1e11 are seconds (the seed's time.time()).
bool number_to_millis(od::value& v, bool seconds_if_small, core::Millis& out) {
    std::int64_t i = 0;
    if (v.get_int64().get(i) == simdjson::SUCCESS) {
        out = (seconds_if_small && i < 100000000000) ? i * 1000 : i;
        return true;
    }
    double d = 0;
    if (v.get_double().get(d) != simdjson::SUCCESS || !std::isfinite(d) || std::fabs(d) > 1e15)
        return false;
    out = (seconds_if_small && d < 1e11) ? std::llround(d * 1000) : std::llround(d);
    return true;
}

std::optional<core::Millis> legacy_timestamp(std::string_view s) {
    if (auto t = core::parse_rfc3339(s))
        return t;
    std::string with_zone(s); // Python's isoformat() has no zone: the seed meant UTC
    with_zone.push_back('Z');
    return core::parse_rfc3339(with_zone);
}

// The value's JSON text exactly as it came, for members passed through unchanged.
bool raw_value(od::value& v, od::json_type type, std::string_view& raw) {
    if (type == od::json_type::object) {
        od::object o;
        return v.get_object().get(o) == simdjson::SUCCESS &&
               o.raw_json().get(raw) == simdjson::SUCCESS;
    }
    if (type == od::json_type::array) {
        od::array a;
        return v.get_array().get(a) == simdjson::SUCCESS &&
               a.raw_json().get(raw) == simdjson::SUCCESS;
    }
    raw = v.raw_json_token();
    if (type == od::json_type::string) { // validate the escapes even though we keep the raw text
        std::string_view unused;
        return v.get_string().get(unused) == simdjson::SUCCESS;
    }
    if (type == od::json_type::number) {
        double unused = 0;
        return v.get_double().get(unused) == simdjson::SUCCESS || !raw.empty();
    }
    return true;
}

} // namespace

Parser::Parser(ParseOptions options) : m_impl(std::make_unique<Impl>()), m_options(options) {}
Parser::~Parser() = default;
Parser::Parser(Parser&&) noexcept = default;
Parser& Parser::operator=(Parser&&) noexcept = default;

bool Parser::parse(std::string_view line, Reading& out) {
    out.clear();
    m_error.clear();
    auto fail = [this](std::string message) {
        m_error = std::move(message);
        return false;
    };
    line = trim(line);
    if (line.empty())
        return fail("empty line");
    if (line.front() != '{')
        return fail("not a JSON object");

    auto& buf = m_impl->padded;
    if (buf.size() < line.size() + simdjson::SIMDJSON_PADDING)
        buf.resize(line.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(buf.data(), line.data(), line.size());
    std::memset(buf.data() + line.size(), 0, simdjson::SIMDJSON_PADDING);

    od::document doc;
    if (auto err = m_impl->parser.iterate(buf.data(), line.size(), buf.size()).get(doc); err) {
        if (err == simdjson::UTF8_ERROR)
            return fail("not valid UTF-8");
        return fail("not valid JSON");
    }
    od::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS)
        return fail("not a JSON object");

    bool have_ts = false, have_device = false, have_sensor = false, have_value = false;
    bool legacy_device = false, legacy_sensor = false, legacy_ts = false;
    std::string legacy_device_name, legacy_sensor_name;
    core::Millis legacy_ts_value = 0;

    for (auto field_result : obj) {
        od::field field;
        if (std::move(field_result).get(field) != simdjson::SUCCESS)
            return fail("not valid JSON");
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS)
            return fail("not valid JSON");
        od::value v = field.value();
        od::json_type type{};
        if (v.type().get(type) != simdjson::SUCCESS) {
            if (looks_non_finite(v.raw_json_token()))
                return fail(fmt::format("{}: not a finite number", key));
            return fail("not valid JSON");
        }
        auto wrong_type = [&](std::string_view expected) {
            return fail(fmt::format("{}: expected {}, got {}", key, expected, type_name(type)));
        };
        auto get_text = [&](std::string& into, std::size_t max) {
            std::string_view s;
            if (type != od::json_type::string || v.get_string().get(s) != simdjson::SUCCESS)
                return wrong_type("a string");
            if (s.size() > max)
                return fail(fmt::format("{}: longer than {} bytes", key, max));
            into.assign(s);
            return true;
        };

        if (key == "ts") {
            if (type == od::json_type::string) {
                std::string_view s;
                if (v.get_string().get(s) != simdjson::SUCCESS)
                    return fail("not valid JSON");
                auto t = core::parse_rfc3339(s);
                if (!t)
                    return fail(fmt::format("ts: \"{}\" is not an RFC 3339 time", s.substr(0, 40)));
                out.ts = *t;
            } else if (type == od::json_type::number) {
                if (!number_to_millis(v, false, out.ts))
                    return fail("ts: not an integer of epoch milliseconds");
            } else {
                return wrong_type("an RFC 3339 string or epoch milliseconds");
            }
            have_ts = true;
        } else if (key == "device") {
            if (!get_text(out.device, 1024))
                return false;
            if (!valid_name(out.device))
                return fail("device: must be 1-64 characters of A-Z a-z 0-9 _ . -");
            have_device = true;
        } else if (key == "sensor") {
            if (!get_text(out.sensor, 1024))
                return false;
            if (!valid_name(out.sensor))
                return fail("sensor: must be 1-64 characters of A-Z a-z 0-9 _ . -");
            have_sensor = true;
        } else if (key == "value") {
            if (type != od::json_type::number)
                return wrong_type("a number");
            double d = 0;
            if (v.get_double().get(d) != simdjson::SUCCESS || !std::isfinite(d))
                return fail("value: not a finite number");
            out.value = d;
            have_value = true;
        } else if (key == "seq") {
            std::int64_t s = 0;
            if (type != od::json_type::number || v.get_int64().get(s) != simdjson::SUCCESS || s < 0)
                return fail("seq: expected a non-negative integer");
            out.seq = s;
        } else if (key == "unit") {
            if (!get_text(out.unit, 16))
                return false;
        } else if (key == "location") {
            if (!get_text(out.location, kMaxTextField))
                return false;
        } else if (key == "label") {
            if (!get_text(out.label, 32))
                return false;
            if (!valid_label(out.label))
                return fail(fmt::format("label: unknown incident kind \"{}\"", out.label));
        } else if (key == "score") {
            double d = 0;
            if (type != od::json_type::number || v.get_double().get(d) != simdjson::SUCCESS ||
                !(d >= 0 && d <= 1))
                return fail("score: expected a number from 0 to 1");
            out.score = d;
        } else if (key == "anomaly") {
            bool b = false;
            if (type != od::json_type::boolean || v.get_bool().get(b) != simdjson::SUCCESS)
                return wrong_type("a boolean");
            out.anomaly = b;
        } else if (key == "reasons") {
            od::array arr;
            if (type != od::json_type::array || v.get_array().get(arr) != simdjson::SUCCESS)
                return wrong_type("an array of strings");
            for (auto item : arr) {
                std::string_view s;
                if (item.get_string().get(s) != simdjson::SUCCESS)
                    return fail("reasons: expected an array of strings");
                if (out.reasons.size() >= 32 || s.size() > 64)
                    return fail("reasons: at most 32 codes of 64 bytes");
                out.reasons.emplace_back(s);
            }
        } else if (m_options.accept_legacy && key == "device_id") {
            if (!get_text(legacy_device_name, 1024))
                return false;
            legacy_device = true;
        } else if (m_options.accept_legacy && key == "sensor_type") {
            if (!get_text(legacy_sensor_name, 1024))
                return false;
            for (auto& c : legacy_sensor_name)
                if (c >= 'A' && c <= 'Z')
                    c = static_cast<char>(c - 'A' + 'a');
            legacy_sensor = true;
        } else if (m_options.accept_legacy && key == "timestamp") {
            if (type == od::json_type::string) {
                std::string_view s;
                if (v.get_string().get(s) != simdjson::SUCCESS)
                    return fail("not valid JSON");
                auto t = legacy_timestamp(s);
                if (!t)
                    return fail(
                        fmt::format("timestamp: \"{}\" is not an ISO 8601 time", s.substr(0, 40)));
                legacy_ts_value = *t;
            } else if (type != od::json_type::number ||
                       !number_to_millis(v, true, legacy_ts_value)) {
                return fail("timestamp: expected an ISO 8601 time or epoch seconds");
            }
            legacy_ts = true;
        } else {
            std::string_view raw;
            if (!raw_value(v, type, raw))
                return fail("not valid JSON");
            raw = trim(raw);
            if (!out.extra.empty())
                out.extra.push_back(',');
            append_json_string(key, out.extra);
            out.extra.push_back(':');
            out.extra.append(raw);
        }
    }
    if (line.back() != '}')
        return fail("not valid JSON (text after the object)");

    if (!have_device && legacy_device) {
        if (!valid_name(legacy_device_name))
            return fail("device_id: must be 1-64 characters of A-Z a-z 0-9 _ . -");
        out.device = std::move(legacy_device_name);
        have_device = true;
    }
    if (!have_sensor && legacy_sensor) {
        if (!valid_name(legacy_sensor_name))
            return fail("sensor_type: must be 1-64 characters of A-Z a-z 0-9 _ . -");
        out.sensor = std::move(legacy_sensor_name);
        have_sensor = true;
    }
    if (!have_ts && legacy_ts) {
        out.ts = legacy_ts_value;
        have_ts = true;
    }
    if (!have_ts)
        return fail("missing field \"ts\"");
    if (!have_device)
        return fail("missing field \"device\"");
    if (!have_sensor)
        return fail("missing field \"sensor\"");
    if (!have_value)
        return fail("missing field \"value\"");
    if (m_options.check_ranges) {
        std::string reason = validate(out, m_options);
        if (!reason.empty())
            return fail(std::move(reason));
    }
    return true;
}

std::string validate(const Reading& r, const ParseOptions& options) {
    if (!valid_name(r.device))
        return "device: must be 1-64 characters of A-Z a-z 0-9 _ . -";
    if (!valid_name(r.sensor))
        return "sensor: must be 1-64 characters of A-Z a-z 0-9 _ . -";
    if (!std::isfinite(r.value))
        return "value: not a finite number";
    if (r.ts < -62135596800000 || r.ts > 253402300799999) // years 0001 to 9999
        return "ts: outside the years 0001 to 9999";
    if (!options.check_ranges)
        return {};
    if (const auto info = sensor_info(r.sensor)) {
        if (info->binary && r.value != 0.0 && r.value != 1.0)
            return fmt::format("value: {} must be 0 or 1, got {}", info->name, r.value);
        if (r.value < info->min || r.value > info->max)
            return fmt::format("value: {} is out of range for {} ({} to {})", r.value, info->name,
                               info->min, info->max);
    }
    return {};
}

} // namespace iots::record
