#include "iotsfw/json.hpp"

#include <cmath>
#include <cstdio>

namespace iots::fw {

void append_json_string(std::string_view s, std::string& out) {
    static const char kHex[] = "0123456789abcdef";
    out.push_back('"');
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (c < 0x20) {
                out += "\\u00";
                out.push_back(kHex[c >> 4]);
                out.push_back(kHex[c & 0xF]);
            } else {
                out.push_back(ch);
            }
        }
    }
    out.push_back('"');
}

void append_fixed(double value, int decimals, std::string& out) {
    char buf[48];
    const int n = std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) { // beyond any sensor's range
        out += "0";
        return;
    }
    std::string_view text(buf, static_cast<std::size_t>(n));
    if (text.find('.') != std::string_view::npos) {
        while (text.back() == '0')
            text.remove_suffix(1);
        if (text.back() == '.')
            text.remove_suffix(1);
    }
    if (text == "-0")
        text = "0";
    out.append(text.data(), text.size());
}

void append_uint(std::uint64_t value, std::string& out) {
    char buf[24];
    std::size_t n = 0;
    do {
        buf[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n > 0)
        out.push_back(buf[--n]);
}

namespace {

// Days since 1970-01-01 to a civil date (Howard Hinnant's civil_from_days).
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

void put2(unsigned v, std::string& out) {
    out.push_back(static_cast<char>('0' + v / 10));
    out.push_back(static_cast<char>('0' + v % 10));
}

} // namespace

void append_rfc3339(std::int64_t epoch_ms, std::string& out) {
    if (epoch_ms < 0)
        epoch_ms = 0;
    const std::int64_t days = epoch_ms / 86400000;
    const auto in_day = static_cast<unsigned>(epoch_ms % 86400000);
    std::int64_t y = 0;
    unsigned m = 0, d = 0;
    civil_from_days(days, y, m, d);
    const auto year = static_cast<unsigned>(y);
    put2(year / 100, out);
    put2(year % 100, out);
    out.push_back('-');
    put2(m, out);
    out.push_back('-');
    put2(d, out);
    out.push_back('T');
    put2(in_day / 3600000, out);
    out.push_back(':');
    put2(in_day / 60000 % 60, out);
    out.push_back(':');
    put2(in_day / 1000 % 60, out);
    out.push_back('.');
    const unsigned ms = in_day % 1000;
    out.push_back(static_cast<char>('0' + ms / 100));
    put2(ms % 100, out);
    out.push_back('Z');
}

namespace {

// A recursive-descent reader over one text; every function leaves `m_pos` after what it read.
class Reader {
public:
    explicit Reader(std::string_view text) : m_text(text) {}

    bool object(std::vector<JsonMember>* members, int depth) {
        if (depth > 32 || !eat('{'))
            return false;
        space();
        if (eat('}'))
            return true;
        for (;;) {
            space();
            JsonMember m;
            if (!string(&m.key))
                return false;
            space();
            if (!eat(':'))
                return false;
            space();
            const std::size_t start = m_pos;
            if (peek() == '"') {
                m.type = JsonMember::Type::string;
                if (!string(&m.text))
                    return false;
            } else {
                if (!value(depth))
                    return false;
                m.text.assign(m_text.substr(start, m_pos - start));
                m.type = is_number_start(m_text[start]) ? JsonMember::Type::number
                                                        : JsonMember::Type::other;
            }
            if (members != nullptr)
                members->push_back(std::move(m));
            space();
            if (eat('}'))
                return true;
            if (!eat(','))
                return false;
        }
    }

    void space() {
        while (m_pos < m_text.size() && (m_text[m_pos] == ' ' || m_text[m_pos] == '\t' ||
                                         m_text[m_pos] == '\n' || m_text[m_pos] == '\r'))
            ++m_pos;
    }
    [[nodiscard]] bool at_end() const { return m_pos == m_text.size(); }

private:
    static bool is_number_start(char c) { return c == '-' || (c >= '0' && c <= '9'); }
    [[nodiscard]] char peek() const { return m_pos < m_text.size() ? m_text[m_pos] : '\0'; }
    bool eat(char c) {
        if (peek() != c)
            return false;
        ++m_pos;
        return true;
    }
    bool literal(std::string_view word) {
        if (m_text.substr(m_pos, word.size()) != word)
            return false;
        m_pos += word.size();
        return true;
    }

    bool value(int depth) {
        const char c = peek();
        if (c == '{')
            return object(nullptr, depth + 1);
        if (c == '[')
            return array(depth + 1);
        if (c == '"')
            return string(nullptr);
        if (c == 't')
            return literal("true");
        if (c == 'f')
            return literal("false");
        if (c == 'n')
            return literal("null");
        return number();
    }

    bool array(int depth) {
        if (depth > 32 || !eat('['))
            return false;
        space();
        if (eat(']'))
            return true;
        for (;;) {
            space();
            if (!value(depth))
                return false;
            space();
            if (eat(']'))
                return true;
            if (!eat(','))
                return false;
        }
    }

    bool digits() {
        const std::size_t start = m_pos;
        while (peek() >= '0' && peek() <= '9')
            ++m_pos;
        return m_pos > start;
    }
    bool number() {
        eat('-');
        if (eat('0')) {
            if (peek() >= '0' && peek() <= '9')
                return false; // no leading zeros
        } else if (!digits()) {
            return false;
        }
        if (eat('.') && !digits())
            return false;
        if (peek() == 'e' || peek() == 'E') {
            ++m_pos;
            if (!eat('+'))
                eat('-');
            if (!digits())
                return false;
        }
        return true;
    }

    int hex4() {
        if (m_pos + 4 > m_text.size())
            return -1;
        int v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = m_text[m_pos++];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= c - '0';
            else if (c >= 'a' && c <= 'f')
                v |= c - 'a' + 10;
            else if (c >= 'A' && c <= 'F')
                v |= c - 'A' + 10;
            else
                return -1;
        }
        return v;
    }

    static void put_utf8(std::uint32_t cp, std::string& out) {
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    }

    // Length of the valid UTF-8 sequence starting at m_pos (1 to 4), 0 when invalid.
    [[nodiscard]] std::size_t utf8_length() const {
        const auto b = [&](std::size_t i) {
            return m_pos + i < m_text.size() ? static_cast<unsigned char>(m_text[m_pos + i]) : 0U;
        };
        const auto cont = [&](std::size_t i) { return (b(i) & 0xC0U) == 0x80U; };
        const unsigned c = b(0);
        if (c < 0x80)
            return 1;
        if (c >= 0xC2 && c <= 0xDF)
            return cont(1) ? 2 : 0;
        if (c >= 0xE0 && c <= 0xEF) {
            if (!cont(1) || !cont(2) || (c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F))
                return 0;
            return 3;
        }
        if (c >= 0xF0 && c <= 0xF4) {
            if (!cont(1) || !cont(2) || !cont(3) || (c == 0xF0 && b(1) < 0x90) ||
                (c == 0xF4 && b(1) > 0x8F))
                return 0;
            return 4;
        }
        return 0;
    }

    bool string(std::string* out) {
        if (!eat('"'))
            return false;
        for (;;) {
            if (m_pos >= m_text.size())
                return false;
            const auto c = static_cast<unsigned char>(m_text[m_pos]);
            if (c == '"') {
                ++m_pos;
                return true;
            }
            if (c < 0x20)
                return false;
            if (c != '\\') {
                const std::size_t n = utf8_length();
                if (n == 0)
                    return false;
                if (out != nullptr)
                    out->append(m_text.substr(m_pos, n));
                m_pos += n;
                continue;
            }
            ++m_pos;
            const char e = peek();
            ++m_pos;
            char plain = '\0';
            switch (e) {
            case '"':
            case '\\':
            case '/':
                plain = e;
                break;
            case 'b':
                plain = '\b';
                break;
            case 'f':
                plain = '\f';
                break;
            case 'n':
                plain = '\n';
                break;
            case 'r':
                plain = '\r';
                break;
            case 't':
                plain = '\t';
                break;
            case 'u': {
                int cp = hex4();
                if (cp < 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
                    return false;
                if (cp >= 0xD800 && cp <= 0xDBFF) { // a high surrogate needs its low half
                    if (!eat('\\') || !eat('u'))
                        return false;
                    const int low = hex4();
                    if (low < 0xDC00 || low > 0xDFFF)
                        return false;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                if (out != nullptr)
                    put_utf8(static_cast<std::uint32_t>(cp), *out);
                continue;
            }
            default:
                return false;
            }
            if (out != nullptr)
                out->push_back(plain);
        }
    }

    std::string_view m_text;
    std::size_t m_pos = 0;
};

} // namespace

bool parse_object(std::string_view text, std::vector<JsonMember>& members) {
    members.clear();
    Reader r(text);
    r.space();
    if (!r.object(&members, 0))
        return false;
    r.space();
    return r.at_end();
}

} // namespace iots::fw
