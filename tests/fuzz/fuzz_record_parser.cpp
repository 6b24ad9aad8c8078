// record::Parser on any bytes: a line (stdin) or a payload (MQTT, which may hold newlines).
// Invariants: the fast path and the full parser agree; a rejected record has a one-line reason;
// an accepted one serialises to one line of JSON that parses back to the same reading, and the
// streaming JsonWriter writes the same text within its announced size.
#include "fuzz_check.hpp"
#include "iotshield/record/parser.hpp"
#include "iotshield/record/serialize.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

using iots::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    // One parser per stream, as the tools keep it: state left by one input must not leak into
    // the next.
    static iots::record::Parser fast;
    static iots::record::Parser full([] {
        iots::record::ParseOptions o;
        o.fast_path = false;
        return o;
    }());
    const auto text = iots::fuzz::as_text(data, size);

    iots::record::Reading a, b;
    const bool fast_ok = fast.parse(text, a);
    const bool full_ok = full.parse(text, b);
    check(fast_ok == full_ok, "fast path and full parser disagree on acceptance",
          fast_ok ? full.error() : fast.error());
    if (!fast_ok) {
        check(fast.error() == full.error(), "fast path and full parser give different reasons",
              fast.error() + " | " + full.error());
        iots::fuzz::check_one_line(fast.error(), "rejection reason");
        return 0;
    }
    check(a == b, "fast path and full parser read different records", text);

    const std::string json = iots::record::to_json(a);
    check(json.find('\n') == std::string::npos, "serialised record spans lines", json);
    check(nlohmann::json::accept(json), "serialised record is not valid JSON", json);
    iots::record::Reading again;
    check(full.parse(json, again), "serialised record is rejected", full.error() + ": " + json);
    check(again == a, "serialised record reads back differently", json);

    iots::record::JsonWriter writer;
    std::vector<char> buf(iots::record::JsonWriter::max_size(a)); // exact: ASan sees an overrun
    const char* end = writer.write(a, buf.data());
    check(std::string_view(buf.data(), static_cast<std::size_t>(end - buf.data())) == json,
          "JsonWriter and to_json differ", json);
    return 0;
}
