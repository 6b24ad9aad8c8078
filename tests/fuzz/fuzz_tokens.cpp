// The API tokens file (http/auth) on any text. Invariants: a refused file is Error(config) with a
// one-line message naming the file; an accepted one holds one entry per token line, and each
// listed token is granted at least its own scope; an unlisted token gets none.
#include "fuzz_check.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/http/auth.hpp"

#include <algorithm>
#include <string>

using iots::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    const auto text = iots::fuzz::as_text(data, size);
    iots::http::Tokens tokens;
    try {
        tokens = iots::http::Tokens::parse(text, "fuzz.tokens");
    } catch (const iots::Error& e) {
        check(e.code() == iots::Exit::config, "tokens error is not a config error (78)", e.what());
        check(std::string_view(e.what()).find("fuzz.tokens") != std::string_view::npos,
              "tokens error does not name the file", e.what());
        iots::fuzz::check_one_line(e.what(), "tokens error message");
        return 0;
    }
    // The file's grammar, written out again: "token scope", blank lines and # comments skipped.
    std::size_t lines = 0;
    std::string_view rest = text;
    while (!rest.empty()) {
        const auto nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string_view::npos || line[first] == '#')
            continue;
        line.remove_prefix(first);
        const auto token = line.substr(0, line.find_first_of(" \t"));
        auto scope = line.substr(token.size());
        scope.remove_prefix(std::min(scope.size(), scope.find_first_not_of(" \t")));
        const bool control = scope.starts_with("control");
        const auto granted = tokens.scope_of(token);
        check(granted >= (control ? iots::http::Scope::control : iots::http::Scope::read),
              "a listed token is not granted its scope", token);
        ++lines;
    }
    check(lines == tokens.size() && lines > 0, "token entries differ from the token lines");
    check(tokens.scope_of("") == iots::http::Scope::none, "the empty token is granted a scope");
    check(tokens.scope_of("not-a-listed-token-0123456789!") == iots::http::Scope::none,
          "an unlisted token is granted a scope");
    return 0;
}
