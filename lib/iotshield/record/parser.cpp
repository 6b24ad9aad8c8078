#include "iotshield/record/parser.hpp"

#include "iotshield/record/parser_parts.hpp"
#include "iotshield/record/sensor.hpp"
#include "iotshield/record/serialize.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <vector>

namespace iots::record {

namespace od = simdjson::ondemand;

struct Parser::Impl {
    od::parser parser;
    std::string padded;
    std::vector<std::string> unknown_keys; // of the current line, to find duplicates
    fast::TsCache ts_cache;
};

namespace {

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_json_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_json_space(s.back()))
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

// Input text quoted for a one-line message: escaped (no raw newline can reach stderr) and cut to
// at most max bytes on a UTF-8 character boundary.
std::string quote_text(std::string_view s, std::size_t max = 40) {
    if (s.size() > max) {
        std::size_t cut = max;
        while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
            --cut;
        s = s.substr(0, cut);
    }
    std::string out;
    append_json_string(s, out);
    return out;
}

// C0 controls and DEL: text shown as it is (a room, a unit) must not be able to clear a terminal
// or forge a log line.
bool has_control(std::string_view s) noexcept {
    return std::any_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// A member name as it appears in a message: plain when it is printable ASCII, quoted otherwise.
std::string key_for_message(std::string_view key) {
    if (key.empty() || key.size() > 64)
        return quote_text(key, 64);
    for (const char c : key)
        if (c < 0x20 || c > 0x7e || c == '"')
            return quote_text(key, 64);
    return std::string(key);
}

// A number member that must be finite: the reason when it is not, or empty.
std::string number_problem(std::string_view key, std::string_view raw) {
    raw = trim(raw);
    if (json_number_grammar(raw) || looks_non_finite(raw)) // 1e400 overflows; -Infinity
        return fmt::format("{}: not a finite number", key_for_message(key));
    return "not valid JSON";
}

// simdjson 3.0.1 (Debian 12) misreads a number of more than 19 digits whose integer part is 0
// (-0.3133333333333333333333 as -4.4e-15; simdjson#2093, fixed in 3.6.3): a long token is read
// again with std::from_chars, which rounds correctly. Short tokens, nearly all, cost nothing more.
simdjson::error_code get_double(od::value& v, double& d) {
    std::string_view token = v.raw_json_token();
    if (const auto e = v.get_double().get(d); e != simdjson::SUCCESS)
        return e;
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' ||
                              token.back() == '\r'))
        token.remove_suffix(1);
    if (token.size() > 19) {
        double exact = 0;
        const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), exact);
        if (ec == std::errc{} && end == token.data() + token.size())
            d = exact;
    }
    return simdjson::SUCCESS;
}

// Epoch milliseconds from a JSON number. ts: an integer count of milliseconds. The legacy
// `timestamp`: seconds (the seed's time.time(), possibly with a fraction) when below 1e11 in
// magnitude, milliseconds above.
bool number_to_millis(od::value& v, bool legacy_seconds, core::Millis& out) {
    constexpr std::int64_t kSecondsBelow = 100000000000;
    std::int64_t i = 0;
    if (v.get_int64().get(i) == simdjson::SUCCESS) {
        out = (legacy_seconds && i > -kSecondsBelow && i < kSecondsBelow) ? i * 1000 : i;
        return true;
    }
    double d = 0;
    if (get_double(v, d) != simdjson::SUCCESS || !std::isfinite(d) || std::fabs(d) > 1e15)
        return false;
    if (legacy_seconds && std::fabs(d) < 1e11) {
        out = std::llround(d * 1000);
        return true;
    }
    if (d != std::floor(d))
        return false; // a fraction of a millisecond: not what a producer meant
    out = static_cast<core::Millis>(d);
    return true;
}

std::optional<core::Millis> legacy_timestamp(std::string_view s) {
    if (auto t = core::parse_rfc3339(s))
        return t;
    std::string with_zone(s); // Python's isoformat() has no zone: the seed meant UTC
    with_zone.push_back('Z');
    return core::parse_rfc3339(with_zone);
}

enum class Key : unsigned {
    ts,
    device,
    sensor,
    value,
    seq,
    unit,
    location,
    label,
    score,
    anomaly,
    reasons,
    device_id,
    sensor_type,
    timestamp,
    other
};

Key identify(std::string_view key, bool legacy) noexcept {
    switch (key.size()) {
    case 2:
        return key == "ts" ? Key::ts : Key::other;
    case 3:
        return key == "seq" ? Key::seq : Key::other;
    case 4:
        return key == "unit" ? Key::unit : Key::other;
    case 5:
        return key == "value"   ? Key::value
               : key == "label" ? Key::label
               : key == "score" ? Key::score
                                : Key::other;
    case 6:
        return key == "device" ? Key::device : key == "sensor" ? Key::sensor : Key::other;
    case 7:
        return key == "anomaly" ? Key::anomaly : key == "reasons" ? Key::reasons : Key::other;
    case 8:
        return key == "location" ? Key::location : Key::other;
    case 9:
        return legacy && key == "device_id"   ? Key::device_id
               : legacy && key == "timestamp" ? Key::timestamp
                                              : Key::other;
    case 11:
        return legacy && key == "sensor_type" ? Key::sensor_type : Key::other;
    default:
        return Key::other;
    }
}

// The member's JSON text exactly as it came, validated, for members passed through unchanged.
// Returns an empty reason on success.
std::string raw_value(od::value& v, od::json_type type, std::string_view key,
                      std::string_view& raw) {
    if (type == od::json_type::object) {
        od::object o;
        if (v.get_object().get(o) != simdjson::SUCCESS ||
            o.raw_json().get(raw) != simdjson::SUCCESS)
            return "not valid JSON";
    } else if (type == od::json_type::array) {
        od::array a;
        if (v.get_array().get(a) != simdjson::SUCCESS || a.raw_json().get(raw) != simdjson::SUCCESS)
            return "not valid JSON";
    } else {
        raw = v.raw_json_token(); // up to the next structural character: may end in spaces
    }
    raw = trim(raw);
    if (const std::string_view reason = json_value_problem(raw); !reason.empty()) {
        if (reason == "not valid JSON")
            return std::string(reason);
        return fmt::format("{}: {}", key_for_message(key), reason);
    }
    // Consume a scalar too, so the iterator moves past it by parsing it: On Demand skips an
    // unconsumed value by counting brackets only (with simdjson 3.0.1 a bare `{"x":"{k":null}}`
    // passes that way).
    bool consumed = true;
    switch (type) {
    case od::json_type::string: {
        std::string_view unused;
        consumed = v.get_string().get(unused) == simdjson::SUCCESS;
        break;
    }
    case od::json_type::number: {
        double unused = 0;
        consumed = v.get_double().get(unused) == simdjson::SUCCESS;
        break;
    }
    case od::json_type::boolean: {
        bool unused = false;
        consumed = v.get_bool().get(unused) == simdjson::SUCCESS;
        break;
    }
    case od::json_type::null: {
        bool is_null = false;
        consumed = v.is_null().get(is_null) == simdjson::SUCCESS && is_null;
        break;
    }
    default:
        break;
    }
    return consumed ? std::string() : std::string("not valid JSON");
}

} // namespace

namespace {

constexpr core::Millis kMinMillis = -62135596800000; // 0001-01-01T00:00:00.000Z
constexpr core::Millis kMaxMillis = 253402300799999; // 9999-12-31T23:59:59.999Z

// The DESIGN §2 range of a known kind; a generic series has none.
std::string range_problem(const Reading& r) {
    if (const auto info = sensor_info(r.sensor)) {
        if (info->binary && r.value != 0.0 && r.value != 1.0)
            return fmt::format("value: {} must be 0 or 1, got {}", info->name, r.value);
        if (r.value < info->min || r.value > info->max)
            return fmt::format("value: {} is out of range for {} ({} to {})", r.value, info->name,
                               info->min, info->max);
    }
    return {};
}

} // namespace

Parser::Parser(ParseOptions options) : m_impl(std::make_unique<Impl>()), m_options(options) {}
Parser::~Parser() = default;
Parser::Parser(Parser&&) noexcept = default;
Parser& Parser::operator=(Parser&&) noexcept = default;

bool Parser::parse(std::string_view line, Reading& out) {
    out.clear();
    m_error.clear();
    m_canonical = false;
    const std::size_t untrimmed = line.size();
    line = trim(line);
    if (m_options.fast_path) {
        bool canonical = false;
        if (fast::parse(line, out, m_impl->ts_cache, &canonical) && out.ts >= kMinMillis &&
            out.ts <= kMaxMillis && (!m_options.check_ranges || range_problem(out).empty())) {
            ++m_fast_lines;
            m_canonical = canonical && line.size() == untrimmed;
            return true;
        }
        out.clear();
    }
    auto fail = [this](std::string message) {
        m_error = std::move(message);
        return false;
    };
    if (line.empty())
        return fail("empty line");
    if (line.front() != '{')
        return fail("not a JSON object");

    auto& buf = m_impl->padded;
    if (buf.size() < line.size() + simdjson::SIMDJSON_PADDING)
        buf.resize(line.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(buf.data(), line.data(), line.size());
    std::memset(buf.data() + line.size(), 0, simdjson::SIMDJSON_PADDING);

    // iterate() runs simdjson's stage 1 over the whole line: UTF-8, unescaped control characters
    // in strings and unclosed strings are found here.
    od::document doc;
    if (auto err = m_impl->parser.iterate(buf.data(), line.size(), buf.size()).get(doc); err) {
        if (err == simdjson::UTF8_ERROR)
            return fail("not valid UTF-8");
        return fail("not valid JSON");
    }
    od::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS)
        return fail("not valid JSON");

    unsigned seen = 0; // bits of Key
    auto& unknown_keys = m_impl->unknown_keys;
    unknown_keys.clear();
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
        // A repeated member is ambiguous (readers differ on which one wins): reject it.
        const Key id = identify(key, m_options.accept_legacy);
        if (id != Key::other) {
            const auto bit = 1U << static_cast<unsigned>(id);
            if ((seen & bit) != 0)
                return fail(fmt::format("duplicate field {}", quote_text(key)));
            seen |= bit;
        } else {
            for (const auto& k : unknown_keys)
                if (k == key)
                    return fail(fmt::format("duplicate field {}", quote_text(key)));
            unknown_keys.emplace_back(key);
        }
        od::value v = field.value();
        od::json_type type{};
        if (v.type().get(type) != simdjson::SUCCESS) {
            if (looks_non_finite(v.raw_json_token()))
                return fail(fmt::format("{}: not a finite number", key_for_message(key)));
            return fail("not valid JSON");
        }
        auto wrong_type = [&](std::string_view expected) {
            return fail(fmt::format("{}: expected {}, got {}", key, expected, type_name(type)));
        };
        // A string member; a bad escape (or lone surrogate) is invalid JSON, not a wrong type.
        auto get_text = [&](std::string& into, std::size_t max) {
            if (type != od::json_type::string)
                return wrong_type("a string");
            std::string_view s;
            if (v.get_string().get(s) != simdjson::SUCCESS)
                return fail("not valid JSON");
            if (s.size() > max)
                return fail(fmt::format("{}: longer than {} bytes", key, max));
            into.assign(s);
            return true;
        };
        // A number member; true with d set, or false with the reason set.
        auto get_number = [&](double& d) {
            if (type != od::json_type::number) {
                if (looks_non_finite(v.raw_json_token())) // nan: simdjson's type() says null
                    return fail(fmt::format("{}: not a finite number", key));
                return wrong_type("a number");
            }
            if (get_double(v, d) != simdjson::SUCCESS)
                return fail(number_problem(key, v.raw_json_token()));
            return true;
        };

        if (id == Key::ts) {
            if (type == od::json_type::string) {
                std::string_view s;
                if (v.get_string().get(s) != simdjson::SUCCESS)
                    return fail("not valid JSON");
                auto t = core::parse_rfc3339(s);
                if (!t)
                    return fail(fmt::format("ts: {} is not an RFC 3339 time", quote_text(s)));
                out.ts = *t;
            } else if (type == od::json_type::number) {
                if (!json_number_grammar(trim(v.raw_json_token())))
                    return fail("not valid JSON");
                if (!number_to_millis(v, false, out.ts))
                    return fail("ts: not an integer of epoch milliseconds");
            } else {
                return wrong_type("an RFC 3339 string or epoch milliseconds");
            }
            have_ts = true;
        } else if (id == Key::device) {
            if (!get_text(out.device, 1024))
                return false;
            if (!valid_name(out.device))
                return fail("device: must be 1-64 characters of A-Z a-z 0-9 _ . -");
            have_device = true;
        } else if (id == Key::sensor) {
            if (!get_text(out.sensor, 1024))
                return false;
            if (!valid_name(out.sensor))
                return fail("sensor: must be 1-64 characters of A-Z a-z 0-9 _ . -");
            have_sensor = true;
        } else if (id == Key::value) {
            if (!get_number(out.value))
                return false;
            if (!std::isfinite(out.value))
                return fail("value: not a finite number");
            have_value = true;
        } else if (id == Key::seq) {
            std::int64_t s = 0;
            if (type != od::json_type::number || v.get_int64().get(s) != simdjson::SUCCESS || s < 0)
                return fail("seq: expected a non-negative integer");
            out.seq = s;
        } else if (id == Key::unit) {
            if (!get_text(out.unit, 16))
                return false;
            if (has_control(out.unit))
                return fail("unit: control characters are not allowed");
        } else if (id == Key::location) {
            if (!get_text(out.location, kMaxTextField))
                return false;
            if (has_control(out.location))
                return fail("location: control characters are not allowed");
        } else if (id == Key::label) {
            if (!get_text(out.label, 32))
                return false;
            if (!valid_label(out.label))
                return fail(fmt::format("label: unknown incident kind {}", quote_text(out.label)));
        } else if (id == Key::score) {
            double d = 0;
            if (type != od::json_type::number || get_double(v, d) != simdjson::SUCCESS ||
                !(d >= 0 && d <= 1))
                return fail("score: expected a number from 0 to 1");
            out.score = d;
        } else if (id == Key::anomaly) {
            bool b = false;
            if (type != od::json_type::boolean)
                return wrong_type("a boolean");
            if (v.get_bool().get(b) != simdjson::SUCCESS)
                return fail("not valid JSON");
            out.anomaly = b;
        } else if (id == Key::reasons) {
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
        } else if (id == Key::device_id) {
            if (!get_text(legacy_device_name, 1024))
                return false;
            legacy_device = true;
        } else if (id == Key::sensor_type) {
            if (!get_text(legacy_sensor_name, 1024))
                return false;
            for (auto& c : legacy_sensor_name)
                if (c >= 'A' && c <= 'Z')
                    c = static_cast<char>(c - 'A' + 'a');
            legacy_sensor = true;
        } else if (id == Key::timestamp) {
            if (type == od::json_type::string) {
                std::string_view s;
                if (v.get_string().get(s) != simdjson::SUCCESS)
                    return fail("not valid JSON");
                auto t = legacy_timestamp(s);
                if (!t)
                    return fail(
                        fmt::format("timestamp: {} is not an ISO 8601 time", quote_text(s)));
                legacy_ts_value = *t;
            } else if (type == od::json_type::number &&
                       !json_number_grammar(trim(v.raw_json_token()))) {
                return fail("not valid JSON");
            } else if (type != od::json_type::number ||
                       !number_to_millis(v, true, legacy_ts_value)) {
                return fail("timestamp: expected an ISO 8601 time or epoch seconds");
            }
            legacy_ts = true;
        } else {
            std::string_view raw;
            if (auto reason = raw_value(v, type, key, raw); !reason.empty())
                return fail(std::move(reason));
            if (!out.extra.empty())
                out.extra.push_back(',');
            append_json_string(key, out.extra);
            out.extra.push_back(':');
            // Whitespace between tokens may hold line breaks (an MQTT payload): passed on, the
            // record must stay one line. Inside a string they would be invalid JSON.
            for (const char c : raw)
                out.extra.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
        }
    }
    // The object is complete; anything after it (`{"a":1} {"b":2}`, a stray `}`) is an error. At
    // the end of the input current_location() reports OUT_OF_BOUNDS.
    if (const char* rest = nullptr; doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS)
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
    if (!have_ts && !m_options.allow_missing_ts)
        return fail("missing field \"ts\"");
    if (!have_device)
        return fail("missing field \"device\"");
    if (!have_sensor)
        return fail("missing field \"sensor\"");
    if (!have_value)
        return fail("missing field \"value\"");
    // Names and finiteness were checked above; the time range always, the kind's range if asked.
    if (!have_ts)
        out.ts = kMissingTs;
    else if (out.ts < kMinMillis || out.ts > kMaxMillis)
        return fail("ts: outside the years 0001 to 9999");
    if (m_options.check_ranges) {
        std::string reason = range_problem(out);
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
    if (r.ts < kMinMillis || r.ts > kMaxMillis)
        return "ts: outside the years 0001 to 9999";
    if (r.seq && *r.seq < 0)
        return "seq: expected a non-negative integer";
    if (!r.label.empty() && !valid_label(r.label))
        return fmt::format("label: unknown incident kind {}", quote_text(r.label));
    if (r.score && !(*r.score >= 0 && *r.score <= 1))
        return "score: expected a number from 0 to 1";
    if (has_control(r.unit))
        return "unit: control characters are not allowed";
    if (has_control(r.location))
        return "location: control characters are not allowed";
    if (!options.check_ranges)
        return {};
    return range_problem(r);
}

} // namespace iots::record
