#include "iotshield/core/printable.hpp"

#include <fmt/format.h>

namespace iots::core {

namespace {

// Length of the valid UTF-8 sequence at the start of `s` (2 to 4), 0 if there is none.
std::size_t utf8_length(std::string_view s) noexcept {
    const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const auto cont = [&](std::size_t i) { return i < s.size() && (b(i) & 0xC0U) == 0x80U; };
    const unsigned char c = b(0);
    if (c >= 0xC2 && c <= 0xDF)
        return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(1) || !cont(2))
            return 0;
        if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F))
            return 0; // overlong, surrogate
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(1) || !cont(2) || !cont(3))
            return 0;
        if ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) > 0x8F))
            return 0; // overlong, beyond U+10FFFF
        return 4;
    }
    return 0;
}

} // namespace

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        const auto c = static_cast<unsigned char>(text.front());
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7F) {
            out += fmt::format("\\x{:02x}", c);
        } else if (c < 0x80) {
            out += static_cast<char>(c);
        } else if (const auto n = utf8_length(text); n == 0) {
            out += fmt::format("\\x{:02x}", c);
        } else if (n == 2 && c == 0xC2 && static_cast<unsigned char>(text[1]) < 0xA0) {
            out += fmt::format("\\u00{:02x}", static_cast<unsigned char>(text[1])); // C1 control
            text.remove_prefix(2);
            continue;
        } else {
            out.append(text.substr(0, n));
            text.remove_prefix(n);
            continue;
        }
        text.remove_prefix(1);
    }
    return out;
}

} // namespace iots::core
