// core::LineReader on real pipes: lines split across reads, CRLF, a last line without '\n', lines
// over the limit skipped (the next line still read), EINTR surfacing as Status::interrupted.
#define BOOST_TEST_MODULE core_line_reader
#include "iotshield/core/error.hpp"
#include "iotshield/core/line_reader.hpp"
#include "iotshield/core/signals.hpp"

#include <boost/test/unit_test.hpp>

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

using iots::core::LineReader;
using Status = LineReader::Status;

namespace {

// What next() returned, as text: "line:<text>", "too_long", "interrupted".
std::vector<std::string> read_all(LineReader& reader, bool keep_interrupts = false) {
    std::vector<std::string> out;
    for (;;) {
        const Status s = reader.next();
        if (s == Status::end)
            return out;
        if (s == Status::line)
            out.push_back("line:" + std::string(reader.line()));
        else if (s == Status::too_long)
            out.emplace_back("too_long");
        else if (keep_interrupts)
            out.emplace_back("interrupted");
    }
}

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return; // the reader went away; the test's own assertions report it
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

// A pipe fed by a thread, one write(2) per piece, so the reader sees the pieces in separate reads
// whenever it is faster than the writer. What is read does not depend on how reads fall.
class FedPipe {
public:
    explicit FedPipe(std::vector<std::string> pieces) {
        BOOST_TEST_REQUIRE(::pipe(m_fds) == 0);
        m_writer = std::thread([this, pieces = std::move(pieces)] {
            for (const auto& piece : pieces) {
                write_all(m_fds[1], piece);
                std::this_thread::yield();
            }
            ::close(m_fds[1]);
        });
    }
    ~FedPipe() {
        m_writer.join();
        ::close(m_fds[0]);
    }
    [[nodiscard]] int fd() const { return m_fds[0]; }

private:
    int m_fds[2] = {-1, -1};
    std::thread m_writer;
};

std::vector<std::string> lines_of(std::vector<std::string> pieces, std::size_t max_line = 1 << 20) {
    FedPipe pipe(std::move(pieces));
    LineReader reader(pipe.fd(), max_line);
    return read_all(reader);
}

using Lines = std::vector<std::string>;

} // namespace

BOOST_AUTO_TEST_CASE(lines_split_across_reads_are_joined) {
    BOOST_TEST(lines_of({"{\"a\"", ":1}\n{\"b\":", "2}\n"}) ==
                   (Lines{"line:{\"a\":1}", "line:{\"b\":2}"}),
               boost::test_tools::per_element());
    // one byte per write
    std::vector<std::string> bytes;
    for (const char c : std::string("ab\ncd\n\nef"))
        bytes.emplace_back(1, c);
    BOOST_TEST(lines_of(bytes) == (Lines{"line:ab", "line:cd", "line:", "line:ef"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(crlf_endings_are_stripped_even_when_split) {
    BOOST_TEST(lines_of({"a\r\nb\r\n"}) == (Lines{"line:a", "line:b"}),
               boost::test_tools::per_element());
    BOOST_TEST(lines_of({"a\r", "\nb\r", "\n"}) == (Lines{"line:a", "line:b"}),
               boost::test_tools::per_element());
    // only a '\r' right before the '\n' goes; one inside the line stays
    BOOST_TEST(lines_of({"a\rb\n\r\n"}) == (Lines{"line:a\rb", "line:"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_last_line_needs_no_newline) {
    BOOST_TEST(lines_of({"a\nb"}) == (Lines{"line:a", "line:b"}), boost::test_tools::per_element());
    BOOST_TEST(lines_of({"a\nb\r"}) == (Lines{"line:a", "line:b"}),
               boost::test_tools::per_element());
    BOOST_TEST(lines_of({"only"}) == (Lines{"line:only"}), boost::test_tools::per_element());
    BOOST_TEST(lines_of({}).empty());
    BOOST_TEST(lines_of({""}).empty());
    BOOST_TEST(lines_of({"\n"}) == (Lines{"line:"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_too_long_line_is_skipped_and_the_next_one_read) {
    // limit 10 bytes: 10 pass, 11 do not; the "\r\n" does not count
    BOOST_TEST(lines_of({"short\n", std::string(20, 'x'), "\nnext\n"}, 10) ==
                   (Lines{"line:short", "too_long", "line:next"}),
               boost::test_tools::per_element());
    BOOST_TEST(lines_of({std::string(10, 'a') + "\n" + std::string(11, 'b') + "\nc\n"}, 10) ==
                   (Lines{"line:" + std::string(10, 'a'), "too_long", "line:c"}),
               boost::test_tools::per_element());
    BOOST_TEST(lines_of({std::string(10, 'a') + "\r\n" + std::string(11, 'b') + "\r\nc\r\n"}, 10) ==
                   (Lines{"line:" + std::string(10, 'a'), "too_long", "line:c"}),
               boost::test_tools::per_element());
    // a too-long last line without '\n'
    BOOST_TEST(lines_of({"a\n", std::string(11, 'b')}, 10) == (Lines{"line:a", "too_long"}),
               boost::test_tools::per_element());
    BOOST_TEST(lines_of({"a\n", std::string(11, 'b') + "\r"}, 10) == (Lines{"line:a", "too_long"}),
               boost::test_tools::per_element());
    // two in a row
    BOOST_TEST(lines_of({std::string(30, 'x') + "\n" + std::string(30, 'y') + "\nz\n"}, 10) ==
                   (Lines{"too_long", "too_long", "line:z"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(line_numbers_count_skipped_lines_too) {
    FedPipe pipe({"a\n" + std::string(50, 'x') + "\nb\n"});
    LineReader reader(pipe.fd(), 10);
    BOOST_TEST((reader.next() == Status::line));
    BOOST_TEST(reader.line_number() == 1U);
    BOOST_TEST((reader.next() == Status::too_long));
    BOOST_TEST(reader.line_number() == 2U);
    BOOST_TEST((reader.next() == Status::line));
    BOOST_TEST(reader.line() == "b");
    BOOST_TEST(reader.line_number() == 3U);
    BOOST_TEST((reader.next() == Status::end));
    BOOST_TEST((reader.next() == Status::end)); // and stays there
}

BOOST_AUTO_TEST_CASE(a_ten_megabyte_line_with_a_one_megabyte_limit) {
    std::vector<std::string> pieces{"before\n"};
    for (int i = 0; i < 10; ++i)
        pieces.emplace_back(1 << 20, static_cast<char>('a' + i));
    pieces.emplace_back("\nafter\n");
    BOOST_TEST(lines_of(pieces, 1 << 20) == (Lines{"line:before", "too_long", "line:after"}),
               boost::test_tools::per_element());
    // the same at the end of input, without a newline: skipped, nothing of it comes back later
    pieces.pop_back();
    BOOST_TEST(lines_of(pieces, 1 << 20) == (Lines{"line:before", "too_long"}),
               boost::test_tools::per_element());
    // a line of exactly the limit still passes, whole
    const std::string exact(1 << 20, 'e');
    BOOST_TEST(lines_of({exact.substr(0, 1000), exact.substr(1000), "\nx\n"}, 1 << 20) ==
                   (Lines{"line:" + exact, "line:x"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(buffered_tells_whether_more_input_is_already_read) {
    FedPipe pipe({"a\nb\n"});
    LineReader reader(pipe.fd());
    BOOST_TEST((reader.next() == Status::line));
    BOOST_TEST(reader.buffered()); // "b\n" came in the same read
    BOOST_TEST((reader.next() == Status::line));
    BOOST_TEST(!reader.buffered());
}

// A pipe delivers lines cut anywhere: a part of a line buffered, or a part more in the pipe, is
// no line ready, and a tool that waited for the rest holding a database lock would hold it for as
// long as its input pauses.
BOOST_AUTO_TEST_CASE(ready_only_with_a_whole_line_buffered_or_readable) {
    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0);
    BOOST_TEST_REQUIRE(::write(fds[1], "a\nb", 3) == 3);
    LineReader reader(fds[0]);
    BOOST_TEST(reader.ready()); // "a\n" read without waiting
    BOOST_TEST((reader.next() == Status::line));
    BOOST_TEST(reader.buffered()); // "b"
    BOOST_TEST(!reader.ready());   // ... is not a line, and the pipe is empty
    BOOST_TEST_REQUIRE(::write(fds[1], "b", 1) == 1);
    BOOST_TEST(!reader.ready()); // "bb" read, still no line
    BOOST_TEST_REQUIRE(::write(fds[1], "\nc\n", 3) == 3);
    BOOST_TEST(reader.ready());
    BOOST_TEST((reader.next() == Status::line));
    BOOST_TEST(reader.line() == "bb");
    BOOST_TEST(reader.ready()); // "c\n" is buffered
    BOOST_TEST((reader.next() == Status::line));
    ::close(fds[1]);
    BOOST_TEST(reader.ready()); // the end of input is ready too
    BOOST_TEST((reader.next() == Status::end));
    ::close(fds[0]);
}

BOOST_AUTO_TEST_CASE(a_read_error_is_an_io_error) {
    LineReader reader(-1);
    try {
        (void)reader.next();
        BOOST_ERROR("reading fd -1 did not throw");
    } catch (const iots::Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(iots::Exit::io_error));
    }
}

BOOST_AUTO_TEST_CASE(a_signal_interrupts_a_blocking_read_and_skipping_resumes) {
    // SIGUSR1 with the tools' handlers (no SA_RESTART) makes read(2) return EINTR. The writer
    // thread leaves the reader blocked in the middle of a too-long line, signals until the
    // reader reports Status::interrupted, then sends the rest. The rest of that line must still
    // be skipped, not come back as a line of its own.
    iots::core::install_signal_handlers();
    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0);
    std::atomic<bool> interrupted{false};
    const pthread_t reader_thread = ::pthread_self();
    std::thread writer([&] {
        write_all(fds[1], "first\n" + std::string(100, 'x'));
        while (!interrupted.load()) { // retry: the signal may land before read() blocks
            ::pthread_kill(reader_thread, SIGUSR1);
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        write_all(fds[1], "tail-of-the-long-line\nnext\n");
        ::close(fds[1]);
    });
    LineReader reader(fds[0], 50);
    std::vector<std::string> got;
    for (;;) {
        const Status s = reader.next();
        if (s == Status::end)
            break;
        if (s == Status::interrupted) {
            if (!interrupted.exchange(true))
                got.emplace_back("interrupted");
            continue;
        }
        got.push_back(s == Status::line ? "line:" + std::string(reader.line()) : "too_long");
    }
    interrupted = true; // let the writer finish even if the reader never saw EINTR
    writer.join();
    ::close(fds[0]);
    (void)iots::core::take_counters_request();
    BOOST_TEST(got == (Lines{"line:first", "interrupted", "too_long", "line:next"}),
               boost::test_tools::per_element());
}
