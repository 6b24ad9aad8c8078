#define BOOST_TEST_MODULE detect_model_file
#include "iotshield/core/error.hpp"
#include "iotshield/detect/model_file.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <unistd.h>

using namespace iots::detect;

namespace {
Model small_model() {
    std::mt19937_64 rng(1);
    std::normal_distribution<double> g(0.0, 0.2);
    std::vector<History> hs;
    for (const char* sensor : {"temperature", "humidity"}) {
        History h{"dev-1", sensor, {}, {}};
        for (int i = 0; i < 800; ++i) {
            h.ts.push_back(1'700'000'000'000 + i * 5000LL);
            h.values.push_back(40.0 + g(rng));
        }
        hs.push_back(std::move(h));
    }
    TrainOptions o;
    o.forest.trees = 10; // a small file keeps the corruption tests fast
    return train(std::move(hs), o).model;
}

// The message of the Error that decoding `bytes` throws (and that it is Exit::no_input).
std::string load_error(const std::string& bytes) {
    try {
        (void)decode_model(bytes, "m.iotsmodel");
    } catch (const iots::Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == 66);
        return e.what();
    }
    return "no error";
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

void put_u32(std::string& b, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        b[at + static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
void fix_crc(std::string& b) {
    put_u32(b, b.size() - 4, crc32(std::string_view(b).substr(0, b.size() - 4)));
}
} // namespace

BOOST_AUTO_TEST_CASE(crc32_of_the_check_string) {
    // The standard check value of CRC-32/ISO-HDLC: crc32("123456789") = 0xCBF43926.
    BOOST_TEST(crc32("123456789") == 0xCBF43926U);
}

BOOST_AUTO_TEST_CASE(round_trip_keeps_every_field_and_every_score) {
    const Model m = small_model();
    const std::string bytes = encode_model(m);
    const Model back = decode_model(bytes, "x");
    BOOST_TEST(back.series.size() == m.series.size());
    BOOST_TEST(back.params.trees == 10U);
    BOOST_TEST(back.train_from == m.train_from);
    BOOST_TEST(back.train_to == m.train_to);
    BOOST_TEST(back.false_alarm_rate == m.false_alarm_rate);
    for (std::size_t i = 0; i < m.series.size(); ++i) {
        const auto& a = m.series[i];
        const auto& b = back.series[i];
        BOOST_TEST(a.device == b.device);
        BOOST_TEST(a.sensor == b.sensor);
        BOOST_TEST(a.threshold == b.threshold);
        BOOST_TEST(a.levels.z == b.levels.z);
        BOOST_TEST(a.levels.stuck_min == b.levels.stuck_min);
        BOOST_TEST(a.forest.values() == b.forest.values());
        BOOST_TEST(a.forest.splits() == b.forest.splits());
        BOOST_TEST(a.profile.binary == b.profile.binary);
        BOOST_TEST(a.profile.limit == b.profile.limit);
        BOOST_TEST(a.profile.centre == b.profile.centre);
        BOOST_TEST(a.profile.spread == b.profile.spread);
        const double x[kFeatures] = {40.5, 1, 0.1, 0.2, 0, 1, 0.5};
        BOOST_TEST(a.forest.score(x) == b.forest.score(x));
    }
    // Encoding is byte-for-byte stable (no padding, no pointers, explicit little-endian).
    BOOST_TEST(encode_model(back) == bytes);
    BOOST_TEST(bytes.substr(0, 8) == "IOTSMODL");
    BOOST_TEST(static_cast<unsigned char>(bytes[8]) == 5U); // version 5, little-endian u32
    BOOST_TEST(bytes[9] == 0);
}

// Version 3: an event series carries its activity levels, a numeric one its k-means ensemble
// (when trained with it); both survive the round trip and a damaged one is a clear error.
Model layered_model() {
    std::mt19937_64 rng(2);
    std::normal_distribution<double> g(0.0, 0.2);
    std::bernoulli_distribution motion(0.1);
    History t{"dev-2", "temperature", {}, {}}, m{"dev-2", "motion", {}, {}};
    for (int i = 0; i < 2000; ++i) {
        t.ts.push_back(1'700'000'000'000 + i * 5000LL);
        t.values.push_back(20.0 + g(rng));
        m.ts.push_back(1'700'000'000'000 + i * 5000LL);
        m.values.push_back(motion(rng) ? 1.0 : 0.0);
    }
    TrainOptions o;
    o.forest.trees = 5;
    o.kmeans = true;
    return train({t, m}, o).model;
}

BOOST_AUTO_TEST_CASE(round_trip_keeps_activity_levels_and_kmeans_ensemble) {
    const Model m = layered_model();
    BOOST_REQUIRE(m.series.size() == 2U);
    const auto& motion = m.series[0].sensor == "motion" ? m.series[0] : m.series[1];
    const auto& temp = m.series[0].sensor == "motion" ? m.series[1] : m.series[0];
    BOOST_TEST(!motion.activity.empty());
    BOOST_TEST(motion.kmeans.empty());
    BOOST_TEST(temp.activity.empty());
    BOOST_TEST(!temp.kmeans.empty());
    const std::string bytes = encode_model(m);
    const Model back = decode_model(bytes, "x");
    for (std::size_t i = 0; i < m.series.size(); ++i) {
        BOOST_TEST(back.series[i].activity.limit == m.series[i].activity.limit);
        BOOST_TEST(back.series[i].kmeans.models == m.series[i].kmeans.models);
        BOOST_TEST(back.series[i].kmeans.level == m.series[i].kmeans.level);
        BOOST_TEST(back.series[i].kmeans.centres == m.series[i].kmeans.centres);
    }
    BOOST_TEST(encode_model(back) == bytes);
}

BOOST_AUTO_TEST_CASE(damaged_layers_are_named) {
    Model m = layered_model();
    for (auto& s : m.series) {
        if (s.kmeans.models != 0)
            s.kmeans.level[1] = -1.0; // the encoder writes what it is given
    }
    BOOST_TEST(contains(load_error(encode_model(m)),
                        "(dev-2/temperature): k-means level -1 is not positive"));
    m = layered_model();
    for (auto& s : m.series)
        if (!s.activity.empty())
            s.activity.limit[5] = 0.0f;
    BOOST_TEST(
        contains(load_error(encode_model(m)), "(dev-2/motion): activity level 0 is not positive"));
}

// Version 4 records the zone the profiles were learnt in; a version 3 file has none and reads as
// UTC, which is what its profiles were learnt in.
namespace {
// Where the zone string starts: header (20), feature count (4), the names (4 + length each),
// trees, subsample, depth (12), seed (8), false-alarm rate (8), scope (1), train range (16).
std::size_t zone_offset() {
    std::size_t at = 20 + 4;
    for (auto f : feature_names())
        at += 4 + f.size();
    return at + 12 + 8 + 8 + 1 + 16;
}
void put_u64(std::string& b, std::size_t at, std::uint64_t v) {
    for (int i = 0; i < 8; ++i)
        b[at + static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
} // namespace

namespace {
std::string u32_bytes(std::uint32_t v) {
    std::string b(4, '\0');
    put_u32(b, 0, v);
    return b;
}

// The bytes version 4 wrote for `m`: no tails. Version 5 writes a tail that is not ready as one
// 0 byte; a series' three of them come just before its forest's trees, depth and features.
std::string as_version_4(Model m) {
    for (auto& s : m.series)
        s.tails = {};
    std::string b = encode_model(m);
    std::size_t from = 20;
    for (const auto& s : m.series) {
        const std::string at_forest = std::string(kModelStats, '\0') + u32_bytes(s.forest.trees()) +
                                      u32_bytes(s.forest.depth()) + u32_bytes(s.forest.features());
        const std::size_t at = b.find(at_forest, from);
        BOOST_REQUIRE(at != std::string::npos);
        b.erase(at, kModelStats);
        from = at;
    }
    put_u32(b, 8, 4);
    put_u64(b, 12, b.size() - 20 - 4);
    fix_crc(b);
    return b;
}
} // namespace

BOOST_AUTO_TEST_CASE(zone_round_trips_and_version_3_reads_as_utc) {
    Model m = small_model();
    BOOST_TEST(m.zone == "UTC");
    m.zone = "Europe/Berlin";
    BOOST_TEST(decode_model(encode_model(m), "x").zone == "Europe/Berlin");
    const std::string v4 = as_version_4(m);
    BOOST_TEST(decode_model(v4, "x").zone == "Europe/Berlin");
    const std::size_t at = zone_offset();
    BOOST_REQUIRE(v4.substr(at, 4 + 13) == std::string("\x0d\0\0\0Europe/Berlin", 4 + 13));

    // The same model as version 3 wrote it: no zone string.
    std::string v3 = v4.substr(0, at) + v4.substr(at + 4 + 13);
    put_u32(v3, 8, 3);
    put_u64(v3, 12, v3.size() - 20 - 4);
    fix_crc(v3);
    const Model back = decode_model(v3, "old.iotsmodel");
    BOOST_TEST(back.zone == "UTC");
    BOOST_TEST(back.series.size() == m.series.size());
    BOOST_TEST(back.series[0].forest.values() == m.series[0].forest.values());
}

// Version 5 carries the tails of the model's statistics (model.hpp ModelStat), fitted on the
// training data; a version 4 file has none and reads with them not ready (each statistic flags at
// its level, as version 4 did).
namespace {
std::string f64_bytes(double v) {
    std::uint64_t u = 0;
    std::memcpy(&u, &v, sizeof u);
    std::string b(8, '\0');
    put_u64(b, 0, u);
    return b;
}
// A ready tail as version 5 writes it: 1, the histogram (f32 each), the counts (f64 each).
std::string tail_bytes(const TailFit& t) {
    const TailFit::Fields f = t.fields();
    std::string b(1, '\1');
    for (float c : f.hist)
        b += u32_bytes(std::bit_cast<std::uint32_t>(c));
    for (double v : {f.all, f.t, f.n, f.peaks, f.excess, f.clusters})
        b += f64_bytes(v);
    return b;
}
} // namespace

BOOST_AUTO_TEST_CASE(tails_round_trip_and_version_4_reads_without_them) {
    const Model m = small_model();
    for (const auto& s : m.series) {
        BOOST_TEST(s.tails[static_cast<std::size_t>(ModelStat::forest)].ready());
        BOOST_TEST(s.tails[static_cast<std::size_t>(ModelStat::profile)].ready());
        BOOST_TEST(!s.tails[static_cast<std::size_t>(ModelStat::activity)].ready());
        BOOST_TEST(s.tails[static_cast<std::size_t>(ModelStat::z)].ready());
        BOOST_TEST(s.tails[static_cast<std::size_t>(ModelStat::spike)].ready());
    }
    const Model back = decode_model(encode_model(m), "x");
    for (std::size_t i = 0; i < m.series.size(); ++i)
        for (std::size_t k = 0; k < kModelStats; ++k) {
            const TailFit& a = m.series[i].tails[k];
            const TailFit& b = back.series[i].tails[k];
            BOOST_TEST(a.ready() == b.ready());
            BOOST_TEST(a.threshold() == b.threshold());
            BOOST_TEST(a.log_extremal_index() == b.log_extremal_index());
            for (const double x : {0.3, 0.6, 0.9, 2.0, 8.0})
                BOOST_TEST(a.surprise(x, 5.0) == b.surprise(x, 5.0));
        }

    const Model old = decode_model(as_version_4(m), "old.iotsmodel");
    BOOST_REQUIRE(old.series.size() == m.series.size());
    for (std::size_t i = 0; i < m.series.size(); ++i) {
        for (const TailFit& t : old.series[i].tails)
            BOOST_TEST(!t.ready());
        BOOST_TEST(old.series[i].threshold == m.series[i].threshold);
        BOOST_TEST(old.series[i].profile.limit == m.series[i].profile.limit);
        BOOST_TEST(old.series[i].forest.values() == m.series[i].forest.values());
    }
}

BOOST_AUTO_TEST_CASE(damaged_tails_are_named) {
    Model m = small_model();
    const TailFit& forest = m.series[0].tails[static_cast<std::size_t>(ModelStat::forest)];
    const std::string good = encode_model(m);
    const std::string tail = tail_bytes(forest);
    const std::size_t at = good.find(tail);
    BOOST_REQUIRE(at != std::string::npos);

    std::string b = good;
    b[at] = '\2';
    fix_crc(b);
    BOOST_TEST(contains(load_error(b), "(dev-1/humidity): tail flag 2 is neither 0 nor 1"));

    b = good; // n, the count of values the tail learnt, 0 with a histogram and peaks
    const std::string zero = f64_bytes(0.0);
    b.replace(at + 1 + 4 * kTailBins + 2 * 8, 8, zero);
    fix_crc(b);
    BOOST_TEST(contains(load_error(b), "(dev-1/humidity): a tail holds impossible counts"));
}

BOOST_AUTO_TEST_CASE(a_zone_that_is_no_name_is_corrupt) {
    Model m = small_model();
    m.zone = "Europe/Berlin\n";
    BOOST_TEST(
        contains(load_error(encode_model(m)), "corrupt: zone is not an IANA time zone name"));
    m.zone = "";
    BOOST_TEST(contains(load_error(encode_model(m)), "corrupt: zone"));
}

BOOST_AUTO_TEST_CASE(empty_file) {
    BOOST_TEST(contains(load_error(""), "empty file"));
}

BOOST_AUTO_TEST_CASE(not_a_model) {
    BOOST_TEST(contains(load_error("{\"ts\":1}\n"), "not an IoTShield model file (bad magic)"));
}

BOOST_AUTO_TEST_CASE(wrong_version) {
    std::string b = encode_model(small_model());
    put_u32(b, 8, 1);
    fix_crc(b);
    BOOST_TEST(contains(load_error(b),
                        "format version 1 is not supported (this build reads versions 3 to 5)"));
}

BOOST_AUTO_TEST_CASE(truncated_anywhere) {
    const std::string b = encode_model(small_model());
    for (std::size_t cut : {std::size_t{12}, std::size_t{20}, b.size() / 2, b.size() - 1}) {
        const std::string msg = load_error(b.substr(0, cut));
        BOOST_TEST(contains(msg, "truncated"), "cut at " << cut << ": " << msg);
    }
}

BOOST_AUTO_TEST_CASE(trailing_bytes) {
    const std::string b = encode_model(small_model()) + "xx";
    BOOST_TEST(contains(load_error(b), "2 bytes of trailing data after the checksum"));
}

BOOST_AUTO_TEST_CASE(one_flipped_bit_is_a_checksum_mismatch) {
    const std::string good = encode_model(small_model());
    for (std::size_t at : {std::size_t{30}, good.size() / 3, good.size() - 10}) {
        std::string b = good;
        b[at] = static_cast<char>(b[at] ^ 0x10);
        BOOST_TEST(contains(load_error(b), "checksum mismatch"), "byte " << at);
    }
}

BOOST_AUTO_TEST_CASE(valid_checksum_but_bad_content_is_named) {
    // Payload starts at 20 with the feature count (u32 7), then "level" (u32 5 + 5 bytes).
    std::string b = encode_model(small_model());
    b[24 + 4] = 'L'; // "level" -> "Level"
    fix_crc(b);
    BOOST_TEST(contains(load_error(b), "feature list differs from this build's"));

    // A split pointing at feature 200 of 7 features.
    std::string c = encode_model(small_model());
    // Find the first split byte of the last forest: it is the byte after the float values; the
    // root of the last tree is a split (not 0xFF) in any forest trained on varying data.
    const Model m = small_model();
    const std::size_t nodes = m.series.back().forest.values().size();
    const std::size_t root = c.size() - 4 - nodes; // start of the last series' split bytes
    BOOST_TEST(static_cast<unsigned char>(c[root]) != 0xFFU);
    c[root] = static_cast<char>(200);
    fix_crc(c);
    BOOST_TEST(
        contains(load_error(c), "series 1 (dev-1/temperature): forest node has an invalid split"));
}

// Found by tests/fuzz/fuzz_model_file (under UBSan): a series whose forest has no nodes made
// decoding copy zero bytes to a null pointer before refusing it. Training never writes one.
BOOST_AUTO_TEST_CASE(a_series_with_an_empty_forest_is_refused_cleanly) {
    Model m = small_model();
    m.series[0].forest = Forest{};
    BOOST_TEST(contains(load_error(encode_model(m)),
                        "corrupt: series 0 (dev-1/humidity): forest parameters out of range"));
}

// Found by tests/fuzz/fuzz_model_file (under UBSan, in CI): a series whose first and last
// timestamps were far apart overflowed the span that scoring computes from them.
BOOST_AUTO_TEST_CASE(a_series_spanning_impossible_times_is_refused) {
    Model m = small_model();
    m.series[0].first_ts = std::numeric_limits<std::int64_t>::min();
    m.series[0].last_ts = std::numeric_limits<std::int64_t>::max();
    BOOST_TEST(
        contains(load_error(encode_model(m)), "corrupt: series 0 (dev-1/humidity): first_ts"));
    m = small_model();
    std::swap(m.series[1].first_ts, m.series[1].last_ts);
    BOOST_TEST(contains(load_error(encode_model(m)), "corrupt: series 1 (dev-1/temperature)"));
    m = small_model();
    m.series[0].interval_ms = -1;
    BOOST_TEST(contains(load_error(encode_model(m)), "interval -1 out of range"));
}

// Crashes tests/fuzz/fuzz_model_file under UBSan (corpus/model_file/crash-train-to-int64-max): a
// file whose training ended at INT64_MAX loaded, and a reading after the training (train_to + 5 s,
// as the fuzz target scores) overflowed.
BOOST_AUTO_TEST_CASE(a_training_span_of_impossible_times_is_refused) {
    Model m = small_model();
    m.train_to = std::numeric_limits<std::int64_t>::max();
    BOOST_TEST(contains(load_error(encode_model(m)), "corrupt: train_from"));
    m = small_model();
    m.train_from = std::numeric_limits<std::int64_t>::min();
    BOOST_TEST(contains(load_error(encode_model(m)), "corrupt: train_from"));
    m = small_model();
    std::swap(m.train_from, m.train_to);
    BOOST_REQUIRE(m.train_from > m.train_to);
    BOOST_TEST(contains(load_error(encode_model(m)), "out of range"));
}

// Found by tests/fuzz/fuzz_model_file: the names in a damaged file reached the one-line error
// message raw, so a newline or an escape sequence in them went to the terminal.
BOOST_AUTO_TEST_CASE(names_in_a_damaged_file_are_refused_and_never_printed_raw) {
    const auto one_line = [](const std::string& m) {
        return std::none_of(m.begin(), m.end(),
                            [](char c) { return static_cast<unsigned char>(c) < 0x20; });
    };
    Model m = small_model();
    m.series[0].device = "dev\x1b[2J\n-1";
    m.series[0].threshold = 2; // also corrupt, reported after the name
    std::string msg = load_error(encode_model(m));
    BOOST_TEST(one_line(msg), msg);
    BOOST_TEST(
        contains(msg, "corrupt: series 0: device is not 1-64 characters of A-Z a-z 0-9 _ . -"),
        msg);
    m = small_model();
    m.series[1].sensor = "";
    msg = load_error(encode_model(m));
    BOOST_TEST(contains(msg, "corrupt: series 1: sensor is not 1-64 characters"), msg);
    m = small_model();
    m.series[1].device = ""; // a per-kind model's series: for every device
    m.scope = Scope::kind;
    BOOST_TEST(load_error(encode_model(m)) == "no error");

    // A feature name with a line break, in the message that lists the file's features.
    std::string b = encode_model(small_model());
    b[24 + 4] = '\n'; // "level" -> "\nevel"
    fix_crc(b);
    msg = load_error(b);
    BOOST_TEST(contains(msg, "feature list differs from this build's"), msg);
    BOOST_TEST(one_line(msg), msg);
}

BOOST_AUTO_TEST_CASE(missing_file_is_exit_66_naming_the_path) {
    try {
        (void)load_model("/nonexistent/dir/m.iotsmodel");
        BOOST_FAIL("no error");
    } catch (const iots::Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == 66);
        BOOST_TEST(contains(e.what(), "/nonexistent/dir/m.iotsmodel: No such file or directory"));
    }
}

BOOST_AUTO_TEST_CASE(save_then_load_from_disk) {
    char dir[] = "/tmp/iots-model-XXXXXX";
    BOOST_REQUIRE(mkdtemp(dir) != nullptr);
    const std::string path = std::string(dir) + "/m.iotsmodel";
    const Model m = small_model();
    save_model(path, m);
    const Model back = load_model(path);
    BOOST_TEST(encode_model(back) == encode_model(m));
    std::remove(path.c_str());
    rmdir(dir);
}
