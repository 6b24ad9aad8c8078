#pragma once
// What the fuzz targets share: an invariant that does not hold is a crash the fuzzer keeps (and
// minimises), with the reason on stderr.
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace iots::fuzz {

[[noreturn]] inline void broken(const char* what, std::string_view detail) {
    std::fprintf(stderr, "fuzz invariant broken: %s: %.*s\n", what, static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
}

inline void check(bool ok, const char* what, std::string_view detail = {}) {
    if (!ok)
        broken(what, detail);
}

// A reason shown to a user on one stderr line: not empty, no line break, no C0 control character.
inline void check_one_line(std::string_view reason, const char* what) {
    check(!reason.empty(), what, "empty reason");
    for (const char c : reason)
        check(static_cast<unsigned char>(c) >= 0x20, what, reason);
}

inline std::string_view as_text(const unsigned char* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

} // namespace iots::fuzz
