#include "iotshield/record/parser.hpp"

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

namespace {
// The RFC 3339 text the fast path converted last: a device sends its sensors' readings with one
// timestamp, so most lines repeat the previous line's.
struct TsCache {
    std::array<char, 40> text{};
    std::size_t size = 0;
    core::Millis value = 0;
};
} // namespace

struct Parser::Impl {
    od::parser parser;
    std::string padded;
    std::vector<std::string> unknown_keys; // of the current line, to find duplicates
    TsCache ts_cache;
};

namespace {

constexpr std::size_t kMaxTextField = 128;

bool is_json_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

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

bool looks_non_finite(std::string_view token) noexcept {
    if (!token.empty() && (token.front() == '-' || token.front() == '+'))
        token.remove_prefix(1);
    return token.starts_with("NaN") || token.starts_with("nan") || token.starts_with("Inf") ||
           token.starts_with("inf");
}

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

// RFC 8259 number grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
bool json_number_grammar(std::string_view t) noexcept {
    std::size_t i = 0;
    const std::size_t n = t.size();
    if (i < n && t[i] == '-')
        ++i;
    if (i >= n)
        return false;
    if (t[i] == '0') {
        ++i;
    } else if (t[i] >= '1' && t[i] <= '9') {
        while (i < n && is_digit(t[i]))
            ++i;
    } else {
        return false;
    }
    if (i < n && t[i] == '.') {
        ++i;
        if (i >= n || !is_digit(t[i]))
            return false;
        while (i < n && is_digit(t[i]))
            ++i;
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        ++i;
        if (i < n && (t[i] == '+' || t[i] == '-'))
            ++i;
        if (i >= n || !is_digit(t[i]))
            return false;
        while (i < n && is_digit(t[i]))
            ++i;
    }
    return i == n;
}

// True when a number with valid grammar is too large for a double (1e400). Underflow (1e-400) is
// fine: it reads as 0, as simdjson and nlohmann both do.
bool number_overflows(std::string_view t) noexcept {
    double d = 0;
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
    (void)ptr;
    if (ec != std::errc::result_out_of_range)
        return false;
    // Out of range either way: decide by the decimal exponent of the leading significant digit.
    std::size_t i = t.front() == '-' ? 1 : 0;
    std::int64_t int_digits = 0, leading_frac_zeros = 0;
    bool seen_nonzero = false;
    while (i < t.size() && is_digit(t[i])) {
        if (t[i] != '0' || seen_nonzero) {
            seen_nonzero = true;
            ++int_digits;
        }
        ++i;
    }
    if (i < t.size() && t[i] == '.') {
        ++i;
        while (i < t.size() && is_digit(t[i])) {
            if (!seen_nonzero && t[i] == '0')
                ++leading_frac_zeros;
            else
                seen_nonzero = true;
            ++i;
        }
    }
    std::int64_t exponent = 0;
    if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
        ++i;
        const bool negative = t[i] == '-';
        if (t[i] == '+' || t[i] == '-')
            ++i;
        while (i < t.size() && is_digit(t[i]) && exponent < 100000000) {
            exponent = exponent * 10 + (t[i] - '0');
            ++i;
        }
        if (negative)
            exponent = -exponent;
    }
    const std::int64_t magnitude =
        int_digits > 0 ? exponent + int_digits - 1 : exponent - leading_frac_zeros - 1;
    return magnitude >= 0;
}

// Strict RFC 8259 check of one JSON value (UTF-8 already checked), for members passed through
// unchanged: simdjson's On Demand API skips nested values without validating what is inside.
class JsonChecker {
public:
    explicit JsonChecker(std::string_view text)
        : m_p(text.data()), m_end(text.data() + text.size()) {}

    // Empty reason when valid; "not valid JSON" or "not a finite number" otherwise.
    std::string_view check() {
        space();
        if (!value(0))
            return m_reason;
        space();
        return m_p == m_end ? std::string_view{} : std::string_view("not valid JSON");
    }

private:
    static constexpr int kMaxDepth = 256;

    void space() noexcept {
        while (m_p != m_end && is_json_space(*m_p))
            ++m_p;
    }
    bool take(char c) noexcept {
        if (m_p == m_end || *m_p != c)
            return false;
        ++m_p;
        return true;
    }
    bool literal(std::string_view word) noexcept {
        if (static_cast<std::size_t>(m_end - m_p) < word.size() ||
            std::string_view(m_p, word.size()) != word)
            return false;
        m_p += word.size();
        return true;
    }
    bool value(int depth) {
        if (m_p == m_end || depth > kMaxDepth)
            return false;
        switch (*m_p) {
        case '{':
            return object(depth + 1);
        case '[':
            return array(depth + 1);
        case '"':
            return string();
        case 't':
            return literal("true");
        case 'f':
            return literal("false");
        case 'n':
            return literal("null");
        default:
            return number();
        }
    }
    bool object(int depth) {
        ++m_p;
        space();
        if (take('}'))
            return true;
        for (;;) {
            space();
            if (m_p == m_end || *m_p != '"' || !string())
                return false;
            space();
            if (!take(':'))
                return false;
            space();
            if (!value(depth))
                return false;
            space();
            if (take('}'))
                return true;
            if (!take(','))
                return false;
        }
    }
    bool array(int depth) {
        ++m_p;
        space();
        if (take(']'))
            return true;
        for (;;) {
            space();
            if (!value(depth))
                return false;
            space();
            if (take(']'))
                return true;
            if (!take(','))
                return false;
        }
    }
    bool hex4(unsigned& out) noexcept {
        if (m_end - m_p < 4)
            return false;
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = *m_p++;
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= static_cast<unsigned>(c - 'A' + 10);
            else
                return false;
        }
        out = v;
        return true;
    }
    bool string() noexcept {
        ++m_p; // opening quote
        while (m_p != m_end) {
            const auto c = static_cast<unsigned char>(*m_p++);
            if (c == '"')
                return true;
            if (c < 0x20)
                return false;
            if (c != '\\')
                continue;
            if (m_p == m_end)
                return false;
            const char e = *m_p++;
            if (e == 'u') {
                unsigned cp = 0;
                if (!hex4(cp))
                    return false;
                if (cp >= 0xDC00 && cp <= 0xDFFF) // a low surrogate without its high half
                    return false;
                if (cp >= 0xD800 && cp <= 0xDBFF) { // must be followed by \u low surrogate
                    unsigned low = 0;
                    if (!take('\\') || !take('u') || !hex4(low) || low < 0xDC00 || low > 0xDFFF)
                        return false;
                }
            } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' &&
                       e != 'r' && e != 't') {
                return false;
            }
        }
        return false;
    }
    bool number() {
        const char* begin = m_p;
        while (m_p != m_end && (is_digit(*m_p) || *m_p == '-' || *m_p == '+' || *m_p == '.' ||
                                *m_p == 'e' || *m_p == 'E'))
            ++m_p;
        const std::string_view token(begin, static_cast<std::size_t>(m_p - begin));
        if (!json_number_grammar(token)) {
            // NaN, Infinity: say so rather than "not valid JSON"
            if (looks_non_finite(std::string_view(begin, static_cast<std::size_t>(m_end - begin))))
                m_reason = "not a finite number";
            return false;
        }
        if (number_overflows(token)) {
            m_reason = "not a finite number";
            return false;
        }
        return true;
    }

    const char* m_p;
    const char* m_end;
    std::string_view m_reason = "not valid JSON";
};

// A number member that must be finite: the reason when it is not, or empty.
std::string number_problem(std::string_view key, std::string_view raw) {
    raw = trim(raw);
    if (json_number_grammar(raw) || looks_non_finite(raw)) // 1e400 overflows; -Infinity
        return fmt::format("{}: not a finite number", key_for_message(key));
    return "not valid JSON";
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
    if (v.get_double().get(d) != simdjson::SUCCESS || !std::isfinite(d) || std::fabs(d) > 1e15)
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
    if (const std::string_view reason = JsonChecker(raw).check(); !reason.empty()) {
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

// The fast path: the plain shape the tools write (no whitespace, no escapes, printable ASCII, only
// the members of a reading, in any order), read in one pass without simdjson. It gives up (false,
// `out` half filled) as soon as a line is anything else, valid or not, and the full parser then
// decides: it may only accept lines the full parser accepts, with the same Reading
// (test_record_fast_path compares the two on many variants).
namespace fast {

constexpr std::uint8_t kPlain = 1; // needs no escape in a string: 0x20-0x7e but quote, backslash
constexpr std::uint8_t kName = 2;  // A-Z a-z 0-9 _ . - (valid_name)
constexpr std::uint8_t kDigit = 4;

constexpr std::array<std::uint8_t, 256> kClass = [] {
    std::array<std::uint8_t, 256> t{};
    for (unsigned c = 0x20; c < 0x7f; ++c)
        if (c != '"' && c != '\\')
            t[c] |= kPlain;
    for (unsigned c = 'a'; c <= 'z'; ++c)
        t[c] |= kName;
    for (unsigned c = 'A'; c <= 'Z'; ++c)
        t[c] |= kName;
    for (unsigned c = '0'; c <= '9'; ++c)
        t[c] |= kName | kDigit;
    t['_'] |= kName;
    t['.'] |= kName;
    t['-'] |= kName;
    return t;
}();

inline bool is(char c, std::uint8_t cls) noexcept {
    return (kClass[static_cast<unsigned char>(c)] & cls) != 0;
}

// The first byte at or after p that is not kPlain (or end): eight bytes a step where it can.
inline const char* plain_run(const char* p, const char* end) noexcept {
    constexpr std::uint64_t kOnes = 0x0101010101010101;
    constexpr std::uint64_t kHigh = 0x8080808080808080;
    while (end - p >= 8) {
        std::uint64_t x = 0;
        std::memcpy(&x, p, sizeof x);
        // Each term marks its lowest matching byte exactly (carries and borrows only move up),
        // so the lowest mark of all is the first byte that is not plain.
        const std::uint64_t q = x ^ (kOnes * '"');
        const std::uint64_t b = x ^ (kOnes * '\\');
        const std::uint64_t marks = ((x - kOnes * 0x20) & ~x & kHigh) // below 0x20
                                    | (((x + kOnes) | x) & kHigh)     // 0x7f and above
                                    | ((q - kOnes) & ~q & kHigh)      // quote
                                    | ((b - kOnes) & ~b & kHigh);     // backslash
        if (marks != 0)
            return p + std::countr_zero(marks) / 8;
        p += 8;
    }
    while (p != end && is(*p, kPlain))
        ++p;
    return p;
}

// A string of 1 to max kPlain bytes at p (its opening quote); kName bytes only if names.
inline bool string(const char*& p, const char* end, std::size_t max, std::string_view& s,
                   bool names = false) noexcept {
    if (p == end || *p != '"')
        return false;
    const char* begin = ++p;
    p = plain_run(p, end);
    if (p == end || *p != '"')
        return false;
    s = std::string_view(begin, static_cast<std::size_t>(p - begin));
    ++p;
    if (s.empty() || s.size() > max)
        return false;
    if (names) {
        std::uint8_t all = kName;
        for (const char c : s)
            all &= kClass[static_cast<unsigned char>(c)];
        return all != 0;
    }
    return true;
}

// The end of the JSON number token at p (RFC 8259 grammar), or nullptr.
inline const char* number_end(const char* p, const char* end) noexcept {
    if (p != end && *p == '-')
        ++p;
    if (p == end || !is(*p, kDigit))
        return nullptr;
    if (*p++ != '0')
        while (p != end && is(*p, kDigit))
            ++p;
    if (p != end && *p == '.') {
        if (++p == end || !is(*p, kDigit))
            return nullptr;
        while (p != end && is(*p, kDigit))
            ++p;
    }
    if (p != end && (*p == 'e' || *p == 'E')) {
        if (++p != end && (*p == '+' || *p == '-'))
            ++p;
        if (p == end || !is(*p, kDigit))
            return nullptr;
        while (p != end && is(*p, kDigit))
            ++p;
    }
    return p;
}

// A finite number, correctly rounded (as simdjson's).
inline bool number(const char*& p, const char* end, double& d) noexcept {
    // Plain decimals first (Clinger's fast path): with at most 2^53 as digits m and k <= 22
    // decimals, m and 10^k are exact doubles and one division rounds m / 10^k correctly.
    static constexpr std::array<double, 23> kPow10{1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char* q = p;
    const bool negative = q != end && *q == '-';
    q += negative ? 1 : 0;
    const char* const whole = q;
    std::uint64_t m = 0; // wraps past 19 digits: then unused
    while (q != end && is(*q, kDigit))
        m = m * 10 + static_cast<unsigned>(*q++ - '0');
    const auto whole_digits = q - whole;
    if (whole_digits == 0 || (*whole == '0' && whole_digits > 1))
        return false;
    std::ptrdiff_t decimals = 0;
    if (q != end && *q == '.') {
        const char* const fraction = ++q;
        while (q != end && is(*q, kDigit))
            m = m * 10 + static_cast<unsigned>(*q++ - '0');
        decimals = q - fraction;
        if (decimals == 0)
            return false;
    }
    if (whole_digits + decimals <= 19 && m <= (std::uint64_t{1} << 53) && decimals < 23 &&
        (q == end || (*q != 'e' && *q != 'E'))) {
        d = static_cast<double>(m) / kPow10[static_cast<std::size_t>(decimals)];
        d = negative ? -d : d;
        p = q;
        return true;
    }
    const char* e = number_end(p, end);
    if (e == nullptr || e - p > 40)
        return false;
    const auto [ptr, ec] = std::from_chars(p, e, d);
    if (ec != std::errc{} || ptr != e || !std::isfinite(d))
        return false;
    p = e;
    return true;
}

// A non-negative integer of at most 15 digits, no leading zero.
inline bool integer(const char*& p, const char* end, std::int64_t& v) noexcept {
    const char* begin = p;
    std::int64_t x = 0;
    while (p != end && is(*p, kDigit) && p - begin < 16)
        x = x * 10 + (*p++ - '0');
    const auto n = p - begin;
    if (n == 0 || n > 15 || (n > 1 && *begin == '0') ||
        (p != end && (*p == '.' || *p == 'e' || *p == 'E')))
        return false;
    v = x;
    return true;
}

constexpr unsigned kTs = 1, kDevice = 2, kSensor = 4, kValue = 8, kSeq = 16, kUnit = 32,
                   kLocation = 64, kLabel = 128;

template <std::size_t N>
bool take(const char*& p, const char* end, const char (&text)[N]) noexcept {
    if (static_cast<std::size_t>(end - p) < N - 1 || std::memcmp(p, text, N - 1) != 0)
        return false;
    p += N - 1;
    return true;
}

// The member name and colon at p: exactly one of the reading's (its bit), or 0.
inline unsigned key(const char*& p, const char* end) noexcept {
    if (end - p < 2)
        return 0;
    switch (p[1]) {
    case 't':
        return take(p, end, "\"ts\":") ? kTs : 0;
    case 'd':
        return take(p, end, "\"device\":") ? kDevice : 0;
    case 's':
        return take(p, end, "\"sensor\":") ? kSensor : take(p, end, "\"seq\":") ? kSeq : 0;
    case 'v':
        return take(p, end, "\"value\":") ? kValue : 0;
    case 'u':
        return take(p, end, "\"unit\":") ? kUnit : 0;
    case 'l':
        return take(p, end, "\"location\":") ? kLocation : take(p, end, "\"label\":") ? kLabel : 0;
    default:
        return 0;
    }
}

bool parse(std::string_view line, Reading& out, TsCache& cache) {
    const char* p = line.data();
    const char* const end = p + line.size();
    if (p == end || *p != '{')
        return false;
    ++p;
    unsigned seen = 0;
    for (;;) {
        const unsigned bit = key(p, end);
        if (bit == 0 || (seen & bit) != 0)
            return false;
        seen |= bit;
        std::string_view s;
        switch (bit) {
        case kTs:
            if (p != end && *p == '"') {
                // The remembered text holds only plain bytes: equal text, equally valid.
                if (cache.size > 0 && static_cast<std::size_t>(end - p) > cache.size + 1 &&
                    p[cache.size + 1] == '"' &&
                    std::memcmp(p + 1, cache.text.data(), cache.size) == 0) {
                    out.ts = cache.value;
                    p += cache.size + 2;
                } else {
                    if (!string(p, end, cache.text.size(), s))
                        return false;
                    const auto t = core::parse_rfc3339(s);
                    if (!t)
                        return false;
                    out.ts = *t;
                    std::memcpy(cache.text.data(), s.data(), s.size());
                    cache.size = s.size();
                    cache.value = *t;
                }
            } else if (!integer(p, end, out.ts)) {
                return false;
            }
            break;
        case kDevice:
            if (!string(p, end, 64, s, true))
                return false;
            out.device.assign(s);
            break;
        case kSensor:
            if (!string(p, end, 64, s, true))
                return false;
            out.sensor.assign(s);
            break;
        case kValue:
            if (!number(p, end, out.value))
                return false;
            break;
        case kSeq: {
            std::int64_t v = 0;
            if (!integer(p, end, v))
                return false;
            out.seq = v;
            break;
        }
        case kUnit:
            if (!string(p, end, 16, s))
                return false;
            out.unit.assign(s);
            break;
        case kLocation:
            if (!string(p, end, kMaxTextField, s))
                return false;
            out.location.assign(s);
            break;
        default: // kLabel
            if (!string(p, end, 32, s) || !valid_label(s))
                return false;
            out.label.assign(s);
            break;
        }
        if (p == end)
            return false;
        if (*p == '}')
            break;
        if (*p++ != ',')
            return false;
    }
    constexpr unsigned kRequired = kTs | kDevice | kSensor | kValue;
    return p + 1 == end && (seen & kRequired) == kRequired;
}

} // namespace fast
} // namespace

Parser::Parser(ParseOptions options) : m_impl(std::make_unique<Impl>()), m_options(options) {}
Parser::~Parser() = default;
Parser::Parser(Parser&&) noexcept = default;
Parser& Parser::operator=(Parser&&) noexcept = default;

bool Parser::parse(std::string_view line, Reading& out) {
    out.clear();
    m_error.clear();
    line = trim(line);
    if (m_options.fast_path) {
        if (fast::parse(line, out, m_impl->ts_cache) && out.ts >= kMinMillis &&
            out.ts <= kMaxMillis && (!m_options.check_ranges || range_problem(out).empty())) {
            ++m_fast_lines;
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
            if (v.get_double().get(d) != simdjson::SUCCESS)
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
            if (type != od::json_type::number || v.get_double().get(d) != simdjson::SUCCESS ||
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
    if (!have_ts)
        return fail("missing field \"ts\"");
    if (!have_device)
        return fail("missing field \"device\"");
    if (!have_sensor)
        return fail("missing field \"sensor\"");
    if (!have_value)
        return fail("missing field \"value\"");
    // Names and finiteness were checked above; the time range always, the kind's range if asked.
    if (out.ts < kMinMillis || out.ts > kMaxMillis)
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
