// core::LineWriter: one flushed line per record on a file descriptor; a closed reader (EPIPE) is
// OutputClosed, any other failed write is Error(io_error) = exit 74; a stalled reader is given up
// (OutputStalled) only when asked.
#define BOOST_TEST_MODULE core_output
#include "iotshield/core/error.hpp"
#include "iotshield/core/output.hpp"
#include "iotshield/core/signals.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
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

// write_lines: whole lines written as they are (at once when each line is flushed, after what
// is buffered; held with the rest when batching).
BOOST_AUTO_TEST_CASE(write_lines_keeps_the_order_and_the_batching) {
    Pipe p;
    BOOST_TEST_REQUIRE(::fcntl(p.fds[0], F_SETFL, O_NONBLOCK) == 0);
    {
        LineWriter out(p.fds[1], true);
        out.write_lines("a\nb\n");
        BOOST_TEST(p.read_all() == "a\nb\n");
        out.write_line("c");
        out.write_lines("d\n");
        BOOST_TEST(p.read_all() == "c\nd\n");
        BOOST_TEST(out.lines() == 3U);
    }
    {
        LineWriter out(p.fds[1], false);
        out.write_line("one");
        out.write_lines("two\nthree\n");
        char c = 0;
        BOOST_TEST(::read(p.fds[0], &c, 1) == -1); // nothing written yet
        out.flush();
        BOOST_TEST(p.read_all() == "one\ntwo\nthree\n");
    }
    Pipe closed;
    closed.close_read();
    LineWriter out(closed.fds[1], true);
    BOOST_CHECK_THROW(out.write_lines("lost\n"), iots::OutputClosed);
    BOOST_CHECK_THROW(out.write_lines("lost again\n"), iots::OutputClosed);
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

// A reader that stops reading: a write of 1 MiB into a 64 KiB pipe blocks. Interrupted by
// core::interrupt_signal() (sent to the writing thread only), it goes on waiting unless told to
// give up; told to, it throws OutputStalled and drops the rest.
BOOST_AUTO_TEST_CASE(a_stalled_reader_is_given_up_only_when_asked) {
    iots::core::install_signal_handlers(); // the no-op handler, without SA_RESTART
    for (const bool give_up : {false, true}) {
        Pipe p;
        std::atomic<bool> flag{false};
        std::atomic<bool> done{false};
        bool stalled = false;
        std::thread writer([&] {
            LineWriter out(p.fds[1], true);
            out.give_up_when(&flag);
            try {
                out.write_line(std::string(std::size_t{1} << 20, 'x'));
            } catch (const iots::OutputStalled&) {
                stalled = true;
            }
            out.give_up_when(nullptr);
            done = true;
        });
        // Interrupt it a few times while it waits: the pipe fills at once, nobody reads.
        for (int i = 0; i < 5; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            pthread_kill(writer.native_handle(), iots::core::interrupt_signal());
        }
        BOOST_TEST(!done.load()); // interrupted, still waiting for the reader
        if (give_up) {
            flag = true;
            while (!done.load()) {
                pthread_kill(writer.native_handle(), iots::core::interrupt_signal());
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            writer.join();
            BOOST_TEST(stalled);
        } else {
            const std::string got = [&] {
                std::string all;
                char buf[65536];
                while (all.size() < (std::size_t{1} << 20) + 1) {
                    const ssize_t n = ::read(p.fds[0], buf, sizeof buf);
                    BOOST_TEST_REQUIRE(n > 0);
                    all.append(buf, static_cast<std::size_t>(n));
                }
                return all;
            }();
            writer.join();
            BOOST_TEST(!stalled);
            BOOST_TEST(got.size() == (std::size_t{1} << 20) + 1); // all of it, and the '\n'
        }
    }
}
