#include "iotshield/record/serialize.hpp"

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fmt/format.h>

namespace iots::record {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// Bytes that a JSON string must escape: control characters, the quote and the backslash.
constexpr std::array<bool, 256> kEscape = [] {
    std::array<bool, 256> t{};
    for (unsigned c = 0; c < 0x20; ++c)
        t[c] = true;
    t['"'] = true;
    t['\\'] = true;
    return t;
}();

template <std::size_t N> char* put(char* p, const char (&text)[N]) noexcept {
    std::memcpy(p, text, N - 1);
    return p + N - 1;
}

char* put(char* p, std::string_view s) noexcept {
    std::memcpy(p, s.data(), s.size());
    return p + s.size();
}

// At most 2 + 6 * s.size() bytes. Plain bytes go eight at a time: each block is stored whole
// (within the bound) and an escape found in it overwrites its tail.
char* put_string(char* p, std::string_view s) noexcept {
    constexpr std::uint64_t kOnes = 0x0101010101010101;
    constexpr std::uint64_t kHigh = 0x8080808080808080;
    *p++ = '"';
    const char* c = s.data();
    const char* const end = c + s.size();
    for (;;) {
        while (end - c >= 8) {
            std::uint64_t x = 0;
            std::memcpy(&x, c, sizeof x);
            std::memcpy(p, &x, sizeof x);
            // Each term marks its lowest matching byte exactly (borrows only move up).
            const std::uint64_t q = x ^ (kOnes * '"');
            const std::uint64_t b = x ^ (kOnes * '\\');
            const std::uint64_t marks = ((x - kOnes * 0x20) & ~x & kHigh) // below 0x20
                                        | ((q - kOnes) & ~q & kHigh)      // quote
                                        | ((b - kOnes) & ~b & kHigh);     // backslash
            if (marks != 0) {
                const auto plain = std::countr_zero(marks) / 8;
                c += plain;
                p += plain;
                break;
            }
            c += 8;
            p += 8;
        }
        while (c != end && !kEscape[static_cast<unsigned char>(*c)])
            *p++ = *c++;
        if (c == end)
            break;
        const auto e = static_cast<unsigned char>(*c++);
        *p++ = '\\';
        switch (e) {
        case '"':
        case '\\':
            *p++ = static_cast<char>(e);
            break;
        case '\n':
            *p++ = 'n';
            break;
        case '\r':
            *p++ = 'r';
            break;
        case '\t':
            *p++ = 't';
            break;
        case '\b':
            *p++ = 'b';
            break;
        case '\f':
            *p++ = 'f';
            break;
        default:
            p = put(p, "u00");
            *p++ = kHex[e >> 4];
            *p++ = kHex[e & 0xF];
        }
    }
    *p++ = '"';
    return p;
}

constexpr std::size_t kMaxNumber = 32; // std::to_chars needs at most 24 for a double

// A finite non-zero value whose shortest form is fixed notation below 1e15, printed as
// std::to_chars prints it; nullptr for any other value. std::to_chars (Ryu in libstdc++) and
// Dragonbox find the same shortest, closest digits; to_chars then takes the shorter of fixed and
// scientific notation (fixed on a tie). Below 1e15 the fixed digits are exact, so they are the
// digits followed by zeros.
char* put_fixed(char* p, double v) noexcept {
    // fmt's Dragonbox (fmt 9.1, Debian 12): a detail API, checked against to_chars by a test.
    const auto dec = fmt::detail::dragonbox::to_decimal(v);
    std::uint64_t sig = dec.significand;
    int exp10 = dec.exponent; // |v| = sig * 10^exp10
    while (sig % 10 == 0) {
        sig /= 10;
        ++exp10;
    }
    char digits[20];
    const char* d = digits;
    const int n = static_cast<int>(std::to_chars(digits, digits + sizeof digits, sig).ptr - d);
    const int e = n - 1 + exp10; // decimal exponent of the leading digit
    const int decimals = exp10 < 0 ? -exp10 : 0;
    const int fixed_len = (e >= 0 ? e + 1 : 1) + (decimals > 0 ? decimals + 1 : 0);
    const int sci_len = n + (n > 1 ? 1 : 0) + ((e >= 100 || e <= -100) ? 5 : 4);
    if (fixed_len > sci_len || e >= 15)
        return nullptr;
    if (v < 0)
        *p++ = '-';
    if (e >= 0) {
        const int whole = e + 1; // digits before the point: n of them, then zeros
        const int from_sig = whole < n ? whole : n;
        std::memcpy(p, d, static_cast<std::size_t>(from_sig));
        p += from_sig;
        for (int z = from_sig; z < whole; ++z)
            *p++ = '0';
        if (decimals > 0) {
            *p++ = '.';
            std::memcpy(p, d + from_sig, static_cast<std::size_t>(n - from_sig));
            p += n - from_sig;
        }
    } else {
        *p++ = '0';
        *p++ = '.';
        for (int z = -1; z > e; --z)
            *p++ = '0';
        std::memcpy(p, d, static_cast<std::size_t>(n));
        p += n;
    }
    return p;
}

// At most kMaxNumber bytes; the same text as std::to_chars (shortest round trip).
char* put_number(char* p, double v) noexcept {
    if (!std::isfinite(v)) // never produced for valid records; keep the output valid JSON
        return put(p, "null");
    if (v == 0)
        return std::signbit(v) ? put(p, "-0") : put(p, "0");
    if (char* end = put_fixed(p, v))
        return end;
    auto [ptr, ec] = std::to_chars(p, p + kMaxNumber, v);
    if (ec != std::errc{})
        return put(p, "null");
    return ptr;
}

char* put_int(char* p, std::int64_t v) noexcept {
    return std::to_chars(p, p + 24, v).ptr;
}

} // namespace

void append_key(std::string_view key, std::string& out) {
    out.push_back(',');
    append_json_string(key, out);
    out.push_back(':');
}

void append_member(std::string_view key, std::string_view value, std::string& out) {
    append_key(key, out);
    append_json_string(value, out);
}

void append_json_string(std::string_view s, std::string& out) {
    std::size_t run = 0; // start of the pending run of characters that need no escape
    out.push_back('"');
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (!kEscape[static_cast<unsigned char>(s[i])])
            continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        char esc[8];
        const char* end = put_string(esc, s.substr(i, 1));
        out.append(esc + 1, static_cast<std::size_t>(end - esc - 2)); // without the quotes
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

void append_number(double v, std::string& out) {
    char buf[kMaxNumber];
    const char* end = put_number(buf, v);
    out.append(buf, static_cast<std::size_t>(end - buf));
}

std::size_t JsonWriter::max_size(const Reading& r) noexcept {
    // Every member name and punctuation, the time, three numbers and seq, strings escaped.
    std::size_t n = 192 + 24 + 3 * kMaxNumber + 24 + r.extra.size();
    n += 6 *
         (r.device.size() + r.sensor.size() + r.unit.size() + r.location.size() + r.label.size());
    for (const auto& reason : r.reasons)
        n += 3 + 6 * reason.size();
    return n;
}

char* JsonWriter::write(const Reading& r, char* p) noexcept {
    if (!m_have_ts || r.ts != m_ts) {
        core::format_rfc3339(r.ts, m_ts_text.data());
        m_ts = r.ts;
        m_have_ts = true;
    }
    p = put(p, "{\"ts\":\"");
    p = put(p, std::string_view(m_ts_text.data(), m_ts_text.size()));
    p = put(p, "\",\"device\":");
    p = put_string(p, r.device);
    p = put(p, ",\"sensor\":");
    p = put_string(p, r.sensor);
    p = put(p, ",\"value\":");
    p = put_number(p, r.value);
    if (!r.unit.empty()) {
        p = put(p, ",\"unit\":");
        p = put_string(p, r.unit);
    }
    if (r.seq) {
        p = put(p, ",\"seq\":");
        p = put_int(p, *r.seq);
    }
    if (!r.location.empty()) {
        p = put(p, ",\"location\":");
        p = put_string(p, r.location);
    }
    if (!r.label.empty()) {
        p = put(p, ",\"label\":");
        p = put_string(p, r.label);
    }
    if (r.score) {
        p = put(p, ",\"score\":");
        p = put_number(p, *r.score);
    }
    if (r.anomaly)
        p = *r.anomaly ? put(p, ",\"anomaly\":true") : put(p, ",\"anomaly\":false");
    if (r.score || r.anomaly || !r.reasons.empty()) {
        p = put(p, ",\"reasons\":[");
        for (std::size_t i = 0; i < r.reasons.size(); ++i) {
            if (i > 0)
                *p++ = ',';
            p = put_string(p, r.reasons[i]);
        }
        *p++ = ']';
    }
    if (!r.extra.empty()) {
        *p++ = ',';
        p = put(p, r.extra);
    }
    *p++ = '}';
    return p;
}

void JsonWriter::append(const Reading& r, std::string& out) {
    const std::size_t max = max_size(r);
    if (max <= 1024) { // the common case: no resize (and zero fill) of out beyond the text
        char buf[1024];
        const char* end = write(r, buf);
        out.append(buf, static_cast<std::size_t>(end - buf));
        return;
    }
    const std::size_t old = out.size();
    out.resize(old + max);
    const char* end = write(r, out.data() + old);
    out.resize(static_cast<std::size_t>(end - out.data()));
}

void append_json(const Reading& r, std::string& out) {
    JsonWriter().append(r, out);
}

std::string to_json(const Reading& r) {
    std::string out;
    out.reserve(160);
    append_json(r, out);
    return out;
}

} // namespace iots::record
