#include "iotshield/record/parser_parts.hpp"

#include <charconv>
#include <cmath>
#include <string>

namespace iots::record {

namespace {
bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}
} // namespace

bool looks_non_finite(std::string_view token) noexcept {
    if (!token.empty() && (token.front() == '-' || token.front() == '+'))
        token.remove_prefix(1);
    return token.starts_with("NaN") || token.starts_with("nan") || token.starts_with("Inf") ||
           token.starts_with("inf");
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

namespace {
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
} // namespace

std::string_view json_value_problem(std::string_view text) {
    return JsonChecker(text).check();
}

} // namespace iots::record
