// Parsing throughput: record::Parser (its fast path for the tools' plain lines, and simdjson On
// Demand alone) against nlohmann::json on the same lines; and serialising them back.
// Usage: bench_parse [records]   (default 1000000). Prints a table; no assertions.
#include "iotshield/record/parser.hpp"
#include "iotshield/record/serialize.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

using iots::record::Parser;
using iots::record::Reading;

// Lines shaped like iots-sim output: six sensor kinds, a few devices, a seq counter, rooms.
std::vector<std::string> make_lines(std::size_t n) {
    struct Kind {
        const char* sensor;
        const char* unit;
        double lo, hi;
        bool binary;
    };
    static constexpr Kind kKinds[] = {
        {"temperature", "C", 18, 28, false}, {"humidity", "%", 30, 70, false},
        {"gas", "ppm", 100, 400, false},     {"flame", "0/1", 0, 1, true},
        {"motion", "0/1", 0, 1, true},       {"light", "lux", 0, 800, false},
    };
    static constexpr const char* kRooms[] = {"livingroom", "kitchen", "bedroom", "hall"};
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> unit(0, 1);
    std::vector<std::string> lines;
    lines.reserve(n);
    Reading r;
    const iots::core::Millis start = 1761410712123;
    for (std::size_t i = 0; i < n; ++i) {
        const Kind& k = kKinds[i % 6];
        const std::size_t room = (i / 6) % 4;
        r.clear();
        r.ts = start + static_cast<iots::core::Millis>(i / 24) * 5000;
        r.device = std::string("esp32-") + kRooms[room];
        r.sensor = k.sensor;
        const double x = k.lo + (k.hi - k.lo) * unit(rng);
        r.value = k.binary ? (x < 0.9 ? 0.0 : 1.0) : std::round(x * 100) / 100;
        r.unit = k.unit;
        r.seq = static_cast<std::int64_t>(i / 24);
        r.location = kRooms[room];
        r.label = "normal";
        lines.push_back(iots::record::to_json(r));
    }
    return lines;
}

struct Row {
    const char* name;
    double seconds;
    std::size_t ok;
};

template <typename F> Row timed(const char* name, const std::vector<std::string>& lines, F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t ok = 0;
    for (const auto& line : lines)
        ok += f(line) ? 1U : 0U;
    const auto t1 = std::chrono::steady_clock::now();
    return {name, std::chrono::duration<double>(t1 - t0).count(), ok};
}

} // namespace

int main(int argc, char** argv) {
    const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
    const auto lines = make_lines(n);
    std::size_t bytes = 0;
    for (const auto& l : lines)
        bytes += l.size() + 1;

    Parser parser;
    iots::record::ParseOptions full_options;
    full_options.fast_path = false;
    Parser full(full_options);
    iots::record::JsonWriter writer;
    Reading r;
    std::string out;
    std::vector<Row> rows;
    // Warm the caches and the parser's buffers once, untimed.
    for (std::size_t i = 0; i < std::min<std::size_t>(n, 10000); ++i)
        (void)parser.parse(lines[i], r), (void)full.parse(lines[i], r);

    rows.push_back(
        timed("Parser::parse", lines, [&](const std::string& l) { return parser.parse(l, r); }));
    rows.push_back(timed("Parser::parse + to_json", lines, [&](const std::string& l) {
        if (!parser.parse(l, r))
            return false;
        out.clear();
        iots::record::append_json(r, out);
        return !out.empty();
    }));
    rows.push_back(timed("Parser::parse (simdjson)", lines,
                         [&](const std::string& l) { return full.parse(l, r); }));
    rows.push_back(timed("Parser::parse + JsonWriter", lines, [&](const std::string& l) {
        if (!parser.parse(l, r))
            return false;
        out.clear();
        writer.append(r, out);
        return !out.empty();
    }));
    rows.push_back(timed("nlohmann::json::parse", lines, [&](const std::string& l) {
        const auto j = nlohmann::json::parse(l, nullptr, false);
        return !j.is_discarded();
    }));

    std::printf("%zu lines, %.1f MB, mean %.0f bytes/line\n\n", n, static_cast<double>(bytes) / 1e6,
                static_cast<double>(bytes) / static_cast<double>(n));
    std::printf("| %-26s | %9s | %12s | %8s | %8s |\n", "benchmark", "seconds", "records/s", "MB/s",
                "accepted");
    std::printf("|%s|%s|%s|%s|%s|\n", std::string(28, '-').c_str(), std::string(11, '-').c_str(),
                std::string(14, '-').c_str(), std::string(10, '-').c_str(),
                std::string(10, '-').c_str());
    for (const auto& row : rows)
        std::printf("| %-26s | %9.3f | %12.0f | %8.1f | %8zu |\n", row.name, row.seconds,
                    static_cast<double>(n) / row.seconds,
                    static_cast<double>(bytes) / 1e6 / row.seconds, row.ok);
    return 0;
}
