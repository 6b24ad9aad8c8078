// The ingest pipeline without a process around it: the bounded queue, and stdin input through a
// pipe into a real database.
#define BOOST_TEST_MODULE ingest_pipeline
#include "iotshield/ingest/bounded_queue.hpp"
#include "iotshield/ingest/ingest.hpp"
#include "iotshield/ingest/pipeline.hpp"
#include "iotshield/ingest/sources.hpp"
#include "iotshield/store/database.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

using iots::ingest::BoundedQueue;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_CASE(queue_keeps_order_and_times_out_when_empty) {
    BoundedQueue<int> q(4);
    std::vector<int> out;
    BOOST_TEST(!q.pop_all(out, std::chrono::milliseconds(0)));
    for (int i = 0; i < 4; ++i)
        q.push(i);
    BOOST_TEST(q.pop_all(out, std::chrono::milliseconds(0)));
    BOOST_TEST(out == (std::vector<int>{0, 1, 2, 3}));
    BOOST_TEST(q.empty());
}

BOOST_AUTO_TEST_CASE(a_full_queue_holds_the_producer_until_popped_or_closed) {
    BoundedQueue<int> q(2);
    std::atomic<int> pushed{0};
    std::thread producer([&] {
        for (int i = 0; i < 5; ++i) {
            q.push(i);
            ++pushed;
        }
    });
    std::vector<int> all, out;
    // Never more than the capacity is queued: each pop_all sees at most 2 items.
    while (all.size() < 3) {
        if (q.pop_all(out, std::chrono::milliseconds(1000))) {
            BOOST_TEST(out.size() <= 2u);
            all.insert(all.end(), out.begin(), out.end());
        }
    }
    q.close(); // the rest goes through without a consumer
    producer.join();
    BOOST_TEST(pushed.load() == 5);
    while (q.pop_all(out, std::chrono::milliseconds(0)))
        all.insert(all.end(), out.begin(), out.end());
    BOOST_TEST(all == (std::vector<int>{0, 1, 2, 3, 4}));
}

BOOST_AUTO_TEST_CASE(counters_and_default_topics) {
    iots::ingest::Counters c{.received = 10, .stored = 8, .rejected = 1, .duplicates = 1};
    BOOST_TEST(iots::ingest::format_counters(c) ==
               "received 10, stored 8, rejected 1, duplicates 1");
    c.status = 2;
    BOOST_TEST(iots::ingest::format_counters(c) ==
               "received 10, stored 8, rejected 1, duplicates 1, status 2");
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
        R"({"ts":1000,"device":"d1","sensor":"gas","value":400,"seq":1})"
        "\n"
        R"({"ts":1000,"device":"d1","sensor":"gas","value":400,"seq":1})" // a duplicate
        "\n\nnope\n"
        R"({"ts":2000,"device":"d1","sensor":"gas","value":401.5})"
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
    BOOST_TEST(got == "{\"ts\":\"1970-01-01T00:00:01.000Z\",\"device\":\"d1\",\"sensor\":\"gas\","
                      "\"value\":400,\"seq\":1}\n"
                      "{\"ts\":\"1970-01-01T00:00:02.000Z\",\"device\":\"d1\",\"sensor\":\"gas\","
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
