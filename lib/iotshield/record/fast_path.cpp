#include "iotshield/record/parser_parts.hpp"

#include "iotshield/record/sensor.hpp"

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace iots::record::fast {

namespace {
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

// See number(): whole points at the first digit, followed by whole_digits digits, then (decimals >
// 0) a point and decimals digits, m all of them as an integer.
inline bool canonical_decimal(const char* whole, std::ptrdiff_t whole_digits,
                              std::ptrdiff_t decimals, std::uint64_t m, bool negative) noexcept {
    if (m == 0)
        return !negative && whole_digits == 1 && decimals == 0; // "0"
    const char* const last = whole + whole_digits + (decimals > 0 ? decimals : -1);
    if (decimals > 0 && *last == '0')
        return false;     // a trailing zero after the point
    std::ptrdiff_t n = 0; // significant digits
    std::ptrdiff_t e = 0; // decimal exponent of the leading one
    if (*whole != '0') {
        e = whole_digits - 1;
        n = whole_digits + decimals;
        if (decimals == 0) // an integer: its trailing zeros are not significant
            for (const char* z = last; *z == '0'; --z)
                --n;
    } else { // 0.000ddd
        std::ptrdiff_t zeros = 0;
        while (whole[2 + zeros] == '0')
            ++zeros;
        e = -(zeros + 1);
        n = decimals - zeros;
    }
    if (n > 15 || e >= 15)
        return false;
    const std::ptrdiff_t fixed_len = (e >= 0 ? e + 1 : 1) + (decimals > 0 ? decimals + 1 : 0);
    const std::ptrdiff_t sci_len = n + (n > 1 ? 1 : 0) + 4; // |e| < 100 here
    return fixed_len <= sci_len;
}

// A finite number, correctly rounded (as simdjson's); canonical set to whether its text is the one
// append_json writes for it (record/serialize.cpp, put_number: std::to_chars' shortest round
// trip). That is a plain decimal without exponent, leading or trailing zeros, of at most 15
// significant digits (any decimal of at most 15 digits reads back from its double, so no shorter
// one gives the same double and these digits are the shortest), in fixed notation where that is
// not longer than scientific (as to_chars chooses), below 1e15. Zero only as "0".
inline bool number(const char*& p, const char* end, double& d, bool& canonical) noexcept {
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
        canonical = canonical_decimal(whole, whole_digits, decimals, m, negative);
        p = q;
        return true;
    }
    canonical = false;
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

} // namespace

// The rank of a member (its bit) in append_json's order: ts, device, sensor, value, unit, seq,
// location, label.
inline unsigned rank(unsigned bit) noexcept {
    return bit == kUnit ? kSeq : bit == kSeq ? kUnit : bit;
}

bool parse(std::string_view line, Reading& out, TsCache& cache, bool* canonical) {
    const char* p = line.data();
    const char* const end = p + line.size();
    if (p == end || *p != '{')
        return false;
    ++p;
    unsigned seen = 0;
    unsigned last_rank = 0;
    bool canon = true;
    for (;;) {
        const unsigned bit = key(p, end);
        if (bit == 0 || (seen & bit) != 0)
            return false;
        seen |= bit;
        canon = canon && rank(bit) > last_rank;
        last_rank = rank(bit);
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
                    canon = canon && cache.canonical;
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
                    char text[24];
                    core::format_rfc3339(*t, text);
                    cache.canonical =
                        s.size() == sizeof text && std::memcmp(s.data(), text, sizeof text) == 0;
                    canon = canon && cache.canonical;
                }
            } else if (!integer(p, end, out.ts)) {
                return false;
            } else {
                canon = false; // written as RFC 3339
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
        case kValue: {
            bool plain = false;
            if (!number(p, end, out.value, plain))
                return false;
            canon = canon && plain;
            break;
        }
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
    if (canonical != nullptr)
        *canonical = canon;
    return p + 1 == end && (seen & kRequired) == kRequired;
}

} // namespace iots::record::fast
