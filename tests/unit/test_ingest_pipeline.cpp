// The ingest pipeline without a process around it: stdin input through a pipe into a real
// database.
#define BOOST_TEST_MODULE ingest_pipeline
#include "iotshield/core/error.hpp"
#include "iotshield/core/thread_priority.hpp"
#include "iotshield/ingest/ingest.hpp"
#include "iotshield/ingest/pipeline.hpp"
#include "iotshield/ingest/sources.hpp"
#include "iotshield/store/database.hpp"

#include "thread_nice.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

namespace fs = std::filesystem;

BOOST_AUTO_TEST_CASE(counters_and_default_topics) {
    iots::ingest::Counters c{.received = 10, .stored = 8, .rejected = 1, .duplicates = 1};
    BOOST_TEST(iots::ingest::format_counters(c) ==
               "received 10, stored 8, rejected 1, duplicates 1");
    c.status = 2;
    BOOST_TEST(iots::ingest::format_counters(c) ==
               "received 10, stored 8, rejected 1, duplicates 1, status 2");
    c.stamped = 3;
    BOOST_TEST(iots::ingest::format_counters(c) ==
               "received 10, stored 8, rejected 1, duplicates 1, status 2, stamped 3");
    const auto t = iots::ingest::default_topics("home");
    BOOST_TEST(t == (std::vector<std::string>{"home/sensors/#", "home/status/#"}));
}

BOOST_AUTO_TEST_CASE(stdin_lines_are_stored_and_passed_on_after_commit) {
    std::string tmpl = (fs::temp_directory_path() / "iots-ingest-XXXXXX").string();
    const fs::path dir = ::mkdtemp(tmpl.data());
    int in[2], out[2];
    BOOST_REQUIRE(::pipe(in) == 0);
    BOOST_REQUIRE(::pipe(out) == 0);
    const std::string text =
        R"({"ts":1761410712000,"device":"d1","sensor":"gas","value":400,"seq":1})"
        "\n"
        R"({"ts":1761410712000,"device":"d1","sensor":"gas","value":400,"seq":1})" // a duplicate
        "\n\nnope\n"
        R"({"ts":1761410713000,"device":"d1","sensor":"gas","value":401.5})"
        "\n";
    BOOST_REQUIRE(::write(in[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(in[1]);
    iots::ingest::Options o;
    o.db_path = (dir / "p.db").string();
    o.input_fd = in[0];
    iots::core::Logger log("test", iots::core::Level::error);
    {
        iots::core::LineWriter writer(out[1], true);
        iots::ingest::Pipeline pipeline(o, log, writer);
        iots::ingest::run_stdin(o, pipeline);
        const auto c = pipeline.counters();
        BOOST_TEST(c.received == 4u); // the blank line is not a record
        BOOST_TEST(c.stored == 2u);
        BOOST_TEST(c.rejected == 1u);
        BOOST_TEST(c.duplicates == 1u);
    }
    ::close(out[1]);
    std::string got(4096, '\0');
    const auto n = ::read(out[0], got.data(), got.size());
    BOOST_REQUIRE(n > 0);
    got.resize(static_cast<std::size_t>(n));
    BOOST_TEST(got == "{\"ts\":\"2025-10-25T16:45:12.000Z\",\"device\":\"d1\",\"sensor\":\"gas\","
                      "\"value\":400,\"seq\":1}\n"
                      "{\"ts\":\"2025-10-25T16:45:13.000Z\",\"device\":\"d1\",\"sensor\":\"gas\","
                      "\"value\":401.5}\n");
    iots::store::Database db(o.db_path);
    auto st = db.prepare("SELECT count(*), sum(value) FROM readings");
    BOOST_REQUIRE(st.step());
    BOOST_TEST(st.column_int(0) == 2);
    BOOST_TEST(st.column_double(1) == 801.5);
    ::close(in[0]);
    ::close(out[0]);
    fs::remove_all(dir);
}

// ---- With a database: the input thread hands chunks to the store thread ----

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "iots-ingest-XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    [[nodiscard]] std::string file(const char* name) const { return (path / name).string(); }
};

// 2025-10-25T16:45:12Z: a reading's ts must be after 2000 and not ahead of the host's clock.
constexpr std::int64_t kT0 = 1761410712000;

// A reading at kT0 + ts.
std::string line(std::int64_t ts, const std::string& device, std::int64_t value,
                 std::optional<std::int64_t> seq) {
    std::string s = "{\"ts\":" + std::to_string(kT0 + ts) + ",\"device\":\"" + device +
                    "\",\"sensor\":\"gas\",\"value\":" + std::to_string(value);
    if (seq)
        s += ",\"seq\":" + std::to_string(*seq);
    return s + "}\n";
}

std::string slurp(const std::string& path) {
    std::string out;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return out;
}

std::int64_t scalar(const std::string& db_path, const std::string& sql) {
    iots::store::Database db(db_path, {.read_only = true, .create = false});
    auto st = db.prepare(sql);
    BOOST_REQUIRE(st.step());
    return st.column_int(0);
}

// Runs run_stdin over text (from a file) with stdout to a file; returns the output.
struct Run {
    iots::ingest::Counters counters;
    std::string out;
};
Run run_text(const TempDir& dir, const std::string& text, iots::ingest::Options o,
             const char* name) {
    const std::string in_path = dir.file(name) + ".in", out_path = dir.file(name) + ".out";
    {
        const int fd = ::open(in_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        BOOST_REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
        ::close(fd);
    }
    const int in = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    o.input_fd = in;
    iots::core::Logger log("test", iots::core::Level::error);
    Run r;
    {
        iots::core::LineWriter writer(out, true);
        iots::ingest::Pipeline pipeline(o, log, writer);
        iots::ingest::run_stdin(o, pipeline);
        r.counters = pipeline.counters();
    }
    ::close(in);
    ::close(out);
    r.out = slurp(out_path);
    return r;
}

} // namespace

BOOST_AUTO_TEST_CASE(many_chunks_keep_their_order_and_drop_duplicates_and_bad_lines) {
    TempDir dir;
    // 3000 lines over several chunks (kChunkReadings each): 3 devices, every 100th line a
    // re-delivery of an earlier good one, every 250th not JSON, every 300th without seq.
    std::string dirty, clean;
    std::uint64_t good = 0, dups = 0, bad = 0;
    for (std::int64_t i = 0; i < 3000; ++i) {
        const std::string dev = "dev" + std::to_string(i % 3);
        if (i % 250 == 249) {
            dirty += "{not json\n";
            ++bad;
        } else if (i % 100 == 99) {
            dirty += line(1000 * (i - 51), "dev" + std::to_string((i - 51) % 3), i - 51, i - 51);
            ++dups;
        } else {
            const auto l = line(1000 * i, dev, i,
                                i % 300 == 7 ? std::nullopt : std::optional<std::int64_t>(i));
            dirty += l;
            clean += l;
            ++good;
        }
    }
    // The expected stdout: the clean lines, serialised by a run without a database.
    const Run expected = run_text(dir, clean, {}, "expected");
    for (const std::size_t batch : {std::size_t{10000}, std::size_t{7}}) {
        iots::ingest::Options o;
        o.db_path = dir.file(batch == 7 ? "b7.db" : "b10000.db");
        o.writer.batch_size = batch;
        const Run got = run_text(dir, dirty, o, "got");
        BOOST_TEST(got.counters.received == 3000u);
        BOOST_TEST(got.counters.stored == good);
        BOOST_TEST(got.counters.duplicates == dups);
        BOOST_TEST(got.counters.rejected == bad);
        BOOST_TEST(got.out == expected.out); // same records, same order, nothing twice
        BOOST_TEST(scalar(o.db_path, "SELECT count(*) FROM readings") ==
                   static_cast<std::int64_t>(good));
        BOOST_TEST(scalar(o.db_path, "SELECT value FROM stats WHERE key = 'rejected_readings'") ==
                   static_cast<std::int64_t>(bad));
        BOOST_TEST(scalar(o.db_path, "SELECT value FROM stats WHERE key = 'duplicate_readings'") ==
                   static_cast<std::int64_t>(dups));
        if (batch == 7)
            BOOST_TEST(got.counters.commits >= good / 7);
    }
    // The same input again: all duplicates or rejected, with seq or without (10 of them).
    iots::ingest::Options o;
    o.db_path = dir.file("b7.db");
    const Run again = run_text(dir, dirty, o, "again");
    BOOST_TEST(again.counters.stored == 0u);
    BOOST_TEST(again.counters.duplicates == good + dups);
    BOOST_TEST(again.out.empty());
}

BOOST_AUTO_TEST_CASE(chunk_boundaries_and_status_reach_the_database) {
    TempDir dir;
    const std::size_t k = iots::ingest::kChunkReadings;
    for (const std::size_t n : {k - 1, k, k + 1, 2 * k}) {
        iots::ingest::Options o;
        o.db_path = (dir.path / fmt::format("c{}.db", n)).string();
        o.quiet = true;
        iots::core::Logger log("test", iots::core::Level::error);
        iots::core::LineWriter writer(1, true);
        iots::ingest::Pipeline pipeline(o, log, writer);
        for (std::size_t i = 0; i < n; ++i) {
            const auto l = line(static_cast<std::int64_t>(i), "d", 1, static_cast<std::int64_t>(i));
            pipeline.reading(std::string_view(l).substr(0, l.size() - 1), {.line = i + 1}, 0,
                             iots::core::now_millis());
        }
        pipeline.status("d", "offline", {.topic = "iotshield/status/d"}, 12345, 0);
        pipeline.status("d e", "online", {.topic = "iotshield/status/d e"}, 1, 0); // bad name
        pipeline.sync();
        const auto c = pipeline.counters();
        BOOST_TEST(c.stored == n);
        BOOST_TEST(c.status == 1u);
        BOOST_TEST(c.rejected == 1u);
        BOOST_TEST(scalar(o.db_path, "SELECT count(*) FROM readings") ==
                   static_cast<std::int64_t>(n));
        BOOST_TEST(scalar(o.db_path, "SELECT status_ts FROM devices WHERE name = 'd' AND "
                                     "status = 'offline'") == 12345);
    }
}

BOOST_AUTO_TEST_CASE(records_are_passed_on_only_after_their_commit) {
    TempDir dir;
    int in[2], out[2];
    BOOST_REQUIRE(::pipe(in) == 0);
    BOOST_REQUIRE(::pipe(out) == 0);
    iots::ingest::Options o;
    o.db_path = dir.file("c.db");
    o.input_fd = in[0];
    o.writer.batch_ms = 3600000; // only the pauses of the input commit
    iots::core::Logger log("test", iots::core::Level::error);
    std::exception_ptr error;
    std::thread ingest([&] {
        try {
            iots::core::LineWriter writer(out[1], true);
            iots::ingest::Pipeline pipeline(o, log, writer);
            iots::ingest::run_stdin(o, pipeline);
        } catch (...) {
            error = std::current_exception();
        }
        ::close(out[1]);
    });
    std::string got;
    auto read_lines = [&](std::size_t lines) {
        char buf[4096];
        while (static_cast<std::size_t>(std::count(got.begin(), got.end(), '\n')) < lines) {
            const auto n = ::read(out[0], buf, sizeof buf);
            BOOST_REQUIRE(n > 0);
            got.append(buf, static_cast<std::size_t>(n));
        }
    };
    // Two bursts, the input kept open: each is passed on after a pause, and by then its rows
    // are visible to another connection.
    for (int burst = 1; burst <= 2; ++burst) {
        std::string text;
        for (int i = 0; i < 3; ++i)
            text += line(1000 * (burst * 10 + i), "d", i, burst * 10 + i);
        BOOST_REQUIRE(::write(in[1], text.data(), text.size()) ==
                      static_cast<ssize_t>(text.size()));
        read_lines(3 * static_cast<std::size_t>(burst));
        BOOST_TEST(scalar(o.db_path, "SELECT count(*) FROM readings") >= 3 * burst);
    }
    ::close(in[1]);
    ingest.join();
    BOOST_TEST(!error);
    BOOST_TEST(std::count(got.begin(), got.end(), '\n') == 6);
    BOOST_TEST(scalar(o.db_path, "SELECT count(*) FROM readings") == 6);
    ::close(in[0]);
    ::close(out[0]);
}

BOOST_AUTO_TEST_CASE(a_failure_of_the_store_thread_ends_an_idle_input_with_its_error) {
    TempDir dir;
    int in[2];
    BOOST_REQUIRE(::pipe(in) == 0);
    const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    BOOST_REQUIRE(full >= 0);
    iots::ingest::Options o;
    o.db_path = dir.file("f.db");
    o.input_fd = in[0];
    const std::string text = line(1000, "d", 1, 1) + line(2000, "d", 2, 2);
    BOOST_REQUIRE(::write(in[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    // The input stays open and idle: the stdout error at the commit must still end the run.
    iots::core::Logger log("test", iots::core::Level::error);
    int code = 0;
    {
        iots::core::LineWriter writer(full, true);
        iots::ingest::Pipeline pipeline(o, log, writer);
        try {
            iots::ingest::run_stdin(o, pipeline);
        } catch (const iots::Error& e) {
            code = static_cast<int>(e.code());
        }
    }
    BOOST_TEST(code == 74);
    ::close(in[0]);
    ::close(in[1]);
    ::close(full);
}

BOOST_AUTO_TEST_CASE(strict_commits_and_passes_on_what_came_before_the_bad_record) {
    TempDir dir;
    iots::ingest::Options o;
    o.db_path = dir.file("s.db");
    o.input.strict = true;
    const std::string text =
        line(1000, "d", 1, 1) + line(2000, "d", 2, 2) +
        "{\"ts\":1761410715000,\"device\":\"d\",\"sensor\":\"gas\",\"value\":null}\n" +
        line(4000, "d", 4, 4);
    int code = 0;
    try {
        run_text(dir, text, o, "strict");
    } catch (const iots::Error& e) {
        code = static_cast<int>(e.code());
    }
    BOOST_TEST(code == 65);
    BOOST_TEST(scalar(o.db_path, "SELECT count(*) FROM readings") == 2);
    const std::string out = slurp(dir.file("strict") + ".out");
    BOOST_TEST(std::count(out.begin(), out.end(), '\n') == 2);
}

BOOST_AUTO_TEST_CASE(a_seqless_file_ingested_twice_is_all_duplicates_the_second_time) {
    TempDir dir;
    // 93 readings without seq (zigbee2mqtt, Tasmota, ESPHome), two values at some ms.
    std::string text;
    for (std::int64_t i = 0; i < 93; ++i)
        text += line(1000 * (i / 2), "dev" + std::to_string(i % 3), i, std::nullopt);
    iots::ingest::Options o;
    o.db_path = dir.file("twice.db");
    const Run first = run_text(dir, text, o, "first");
    BOOST_TEST(first.counters.stored == 93u);
    BOOST_TEST(first.counters.duplicates == 0u);
    const Run second = run_text(dir, text, o, "second");
    BOOST_TEST(second.counters.received == 93u);
    BOOST_TEST(second.counters.stored == 0u);
    BOOST_TEST(second.counters.duplicates == 93u);
    BOOST_TEST(second.out.empty()); // a duplicate is not passed on
    BOOST_TEST(scalar(o.db_path, "SELECT count(*) FROM readings") == 93);
}

BOOST_AUTO_TEST_CASE(a_wrong_clock_is_rejected_or_stamped_on_receipt) {
    TempDir dir;
    const std::int64_t now = iots::core::now_millis(), hour = 3600000, day = 24 * hour;
    auto at = [](std::int64_t ts, int value) {
        return "{\"ts\":" + std::to_string(ts) +
               ",\"device\":\"d\",\"sensor\":\"gas\",\"value\":" + std::to_string(value) + "}\n";
    };
    const std::string text = at(-5, 1) +            // never synced
                             at(946684799000, 2) +  // 1999-12-31T23:59:59Z
                             at(now + 2 * day, 3) + // a broken clock
                             at(now + hour, 4) +    // within the skew
                             at(946684800000, 5) +  // 2000-01-01: the first good
                             R"({"ts":5,"device":"d","sensor":"gas","value":6,"clock":"rtc"})"
                             "\n"; // already marked: cannot be stamped
    for (const bool with_db : {true, false}) {
        iots::ingest::Options o;
        if (with_db)
            o.db_path = dir.file("clock.db");
        const Run r = run_text(dir, text, o, "reject");
        BOOST_TEST(r.counters.received == 6u);
        BOOST_TEST(r.counters.rejected == 4u);
        BOOST_TEST(r.counters.stored == 2u);
        BOOST_TEST(r.counters.stamped == 0u);
        BOOST_TEST(std::count(r.out.begin(), r.out.end(), '\n') == 2);
        BOOST_TEST(r.out.find("\"value\":4") != std::string::npos);
        BOOST_TEST(r.out.find("\"value\":5") != std::string::npos);
    }
    BOOST_TEST(scalar(dir.file("clock.db"), "SELECT value FROM stats WHERE key = "
                                            "'rejected_readings'") == 4);
    // --max-skew 3d takes the one 2 days ahead.
    iots::ingest::Options skew;
    skew.clock.max_skew = 3 * day;
    BOOST_TEST(run_text(dir, text, skew, "skew").counters.stored == 3u);
    // --stamp-bad-clock: stored at the time of receipt, marked, the node's ts kept.
    iots::ingest::Options stamp;
    stamp.db_path = dir.file("stamp.db");
    stamp.clock.stamp = true;
    const std::int64_t before = iots::core::now_millis();
    const Run s = run_text(dir, text, stamp, "stamp");
    const std::int64_t after = iots::core::now_millis();
    BOOST_TEST(s.counters.stored == 5u);
    BOOST_TEST(s.counters.stamped == 3u);
    BOOST_TEST(s.counters.rejected == 1u); // the one that already had "clock"
    BOOST_TEST(s.out.find(R"("value":1,"clock":"stamped","node_ts":"1969-12-31T23:59:59.995Z"})") !=
               std::string::npos);
    BOOST_TEST(s.out.find(R"("value":2,"clock":"stamped","node_ts":"1999-12-31T23:59:59.000Z"})") !=
               std::string::npos);
    BOOST_TEST(scalar(stamp.db_path, "SELECT count(*) FROM readings WHERE extra LIKE "
                                     "'%\"clock\":\"stamped\"%'") == 3);
    BOOST_TEST(scalar(stamp.db_path, "SELECT min(ts) FROM readings WHERE extra IS NOT NULL") >=
               before);
    BOOST_TEST(scalar(stamp.db_path, "SELECT max(ts) FROM readings WHERE extra IS NOT NULL") <=
               after);
}

// With --quiet nothing waits for the store thread on an alarm's way (the broker deployment: the
// detector reads the broker itself), so it and its checkpointer run at a lower priority (nice +5)
// and leave the CPU to the broker and the tools the alarm goes through. Passing records on, the
// store thread is that way (iots-ingest | iots-detect): only the checkpointer is lowered.
BOOST_AUTO_TEST_CASE(a_quiet_store_thread_runs_in_the_background) {
    TempDir dir;
    const int background = std::min(iots::core::thread_nice() + iots::core::kBackgroundNice, 19);
    iots::core::Logger log("test", iots::core::Level::error);
    const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    BOOST_REQUIRE(devnull >= 0);
    iots::core::LineWriter writer(devnull, true);
    for (const bool quiet : {true, false}) {
        iots::ingest::Options o;
        o.db_path = (dir.path / fmt::format("q{}.db", quiet ? 1 : 0)).string();
        o.quiet = quiet;
        const std::size_t before = iots::test::threads_at_nice(background, 0);
        iots::ingest::Pipeline pipeline(o, log, writer);
        const std::size_t want = before + (quiet ? 2 : 1); // the store thread, its checkpointer
        BOOST_TEST(iots::test::threads_at_nice(background, want) == want);
        const auto l = line(1, "d", 1, 1);
        pipeline.reading(std::string_view(l).substr(0, l.size() - 1), {.line = 1}, 0,
                         iots::core::now_millis());
        pipeline.sync();
        BOOST_TEST(pipeline.counters().stored == 1u);
        BOOST_TEST(scalar(o.db_path, "SELECT count(*) FROM readings") == 1);
    }
    ::close(devnull);
}
