// core::LineWriter: one flushed line per record on a file descriptor; a closed reader (EPIPE) is
// OutputClosed, any other failed write is Error(io_error) = exit 74.
#define BOOST_TEST_MODULE core_output
#include "iotshield/core/error.hpp"
#include "iotshield/core/output.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <thread>

using iots::core::LineWriter;

namespace {

struct Pipe {
    int fds[2] = {-1, -1};
    Pipe() { BOOST_TEST_REQUIRE(::pipe(fds) == 0); }
    ~Pipe() {
        close_read();
        close_write();
    }
    void close_read() {
        if (fds[0] >= 0)
            ::close(fds[0]);
        fds[0] = -1;
    }
    void close_write() {
        if (fds[1] >= 0)
            ::close(fds[1]);
        fds[1] = -1;
    }
    std::string read_all() {
        std::string out;
        char buf[4096];
        ssize_t n = 0;
        while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
            out.append(buf, static_cast<std::size_t>(n));
        return out;
    }
};

// The tools ignore SIGPIPE (core::install_signal_handlers); so does this test, or the write
// would kill it instead of returning EPIPE.
struct IgnoreSigpipe {
    IgnoreSigpipe() { std::signal(SIGPIPE, SIG_IGN); }
};
BOOST_TEST_GLOBAL_FIXTURE(IgnoreSigpipe);

} // namespace

BOOST_AUTO_TEST_CASE(each_line_is_written_at_once_with_a_newline) {
    Pipe p;
    {
        LineWriter out(p.fds[1], true);
        out.write_line(R"({"a":1})");
        // flushed per line: the reader sees it before the writer goes away
        char buf[16] = {};
        BOOST_TEST(::read(p.fds[0], buf, sizeof buf) == 8);
        BOOST_TEST(std::string(buf, 8) == "{\"a\":1}\n");
        out.write_line("");
        out.write_line("x");
        BOOST_TEST(out.lines() == 3U);
    }
    p.close_write();
    BOOST_TEST(p.read_all() == "\nx\n");
}

BOOST_AUTO_TEST_CASE(batching_holds_lines_until_flush_or_destruction) {
    Pipe p;
    BOOST_TEST_REQUIRE(::fcntl(p.fds[0], F_SETFL, O_NONBLOCK) == 0);
    {
        LineWriter out(p.fds[1], false);
        out.write_line("one");
        out.write_line("two");
        char c = 0;
        BOOST_TEST(::read(p.fds[0], &c, 1) == -1); // nothing written yet
        out.flush();
        BOOST_TEST(p.read_all() == "one\ntwo\n");
        out.write_line("three");
    } // the destructor flushes
    BOOST_TEST(p.read_all() == "three\n");
}

BOOST_AUTO_TEST_CASE(a_pipe_whose_reader_is_gone_throws_output_closed) {
    Pipe p;
    p.close_read();
    LineWriter out(p.fds[1], true);
    BOOST_CHECK_THROW(out.write_line("lost"), iots::OutputClosed);
    // and again on later writes (the buffer was dropped, nothing piles up)
    BOOST_CHECK_THROW(out.write_line("lost again"), iots::OutputClosed);
}

BOOST_AUTO_TEST_CASE(batched_output_to_a_closed_pipe_throws_on_flush) {
    Pipe p;
    p.close_read();
    LineWriter out(p.fds[1], false);
    out.write_line("held");
    BOOST_CHECK_THROW(out.flush(), iots::OutputClosed);
}

BOOST_AUTO_TEST_CASE(a_full_disk_is_an_io_error_exit_74) {
    const int fd = ::open("/dev/full", O_WRONLY);
    BOOST_TEST_REQUIRE(fd >= 0);
    {
        LineWriter out(fd, true);
        try {
            out.write_line("data");
            BOOST_ERROR("writing to /dev/full did not throw");
        } catch (const iots::Error& e) {
            BOOST_TEST(static_cast<int>(e.code()) == 74);
            BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(iots::Exit::io_error));
            BOOST_TEST(std::string(e.what()).find("No space left on device") != std::string::npos,
                       e.what());
        }
    }
    ::close(fd);
}

BOOST_AUTO_TEST_CASE(a_bad_descriptor_is_an_io_error) {
    LineWriter out(-1, true);
    try {
        out.write_line("x");
        BOOST_ERROR("writing to fd -1 did not throw");
    } catch (const iots::Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(iots::Exit::io_error));
    }
}

BOOST_AUTO_TEST_CASE(the_destructor_swallows_a_failed_final_flush) {
    const int fd = ::open("/dev/full", O_WRONLY);
    BOOST_TEST_REQUIRE(fd >= 0);
    BOOST_CHECK_NO_THROW({
        LineWriter out(fd, false);
        out.write_line("never written");
    });
    ::close(fd);
}

BOOST_AUTO_TEST_CASE(output_larger_than_the_pipe_is_written_whole) {
    // 300 KB in 64 KiB batches into a 64 KiB pipe: writes block and may be partial
    Pipe p;
    std::string got;
    std::thread reader([&] { got = p.read_all(); });
    std::string expected;
    {
        LineWriter out(p.fds[1], false);
        const std::string line(999, 'z');
        for (int i = 0; i < 300; ++i) {
            out.write_line(line);
            expected += line + "\n";
        }
    }
    p.close_write();
    reader.join();
    BOOST_TEST(got.size() == expected.size());
    BOOST_TEST((got == expected));
}
