// The input of the tools that read readings: the one reject policy (its diagnostics, counter and
// exit 65), the stdin driver through a pipe, the MQTT driver against a real mosquitto, and the
// bounded queue between the network thread and the tool.
#define BOOST_TEST_MODULE input_driver
#include "iotshield/core/error.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/input/bounded_queue.hpp"
#include "iotshield/input/lines.hpp"
#include "iotshield/input/messages.hpp"
#include "iotshield/input/rejects.hpp"
#include "mqtt_test_broker.hpp"

#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using iots::input::End;
using iots::input::Origin;

// stderr (fd 2, where core::Logger writes) into a temporary file while it lives.
class CaptureStderr {
public:
    CaptureStderr() : m_file(std::tmpfile()), m_saved(::dup(2)) {
        BOOST_TEST_REQUIRE(m_file != nullptr);
        ::dup2(::fileno(m_file), 2);
    }
    ~CaptureStderr() {
        restore();
        std::fclose(m_file);
    }
    CaptureStderr(const CaptureStderr&) = delete;
    CaptureStderr& operator=(const CaptureStderr&) = delete;

    // Everything written so far; stderr is the terminal's again from here.
    std::string text() {
        restore();
        std::string out;
        std::rewind(m_file);
        char buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, m_file)) > 0;)
            out.append(buf, n);
        return out;
    }

private:
    void restore() {
        if (m_saved >= 0) {
            ::dup2(m_saved, 2);
            ::close(m_saved);
            m_saved = -1;
        }
    }
    std::FILE* m_file;
    int m_saved;
};

std::string error_of(const std::function<void()>& f, iots::Exit* code = nullptr) {
    try {
        f();
    } catch (const iots::Error& e) {
        if (code != nullptr)
            *code = e.code();
        return e.what();
    }
    return "(no error)";
}

// A pipe whose read end holds `text`, then its end.
class Input {
public:
    explicit Input(const std::string& text) {
        int fds[2];
        BOOST_TEST_REQUIRE(::pipe(fds) == 0);
        m_fd = fds[0];
        m_writer = std::thread([fd = fds[1], text] {
            std::size_t at = 0;
            while (at < text.size()) {
                const auto n = ::write(fd, text.data() + at, text.size() - at);
                if (n <= 0)
                    break;
                at += static_cast<std::size_t>(n);
            }
            ::close(fd);
        });
    }
    ~Input() {
        ::close(m_fd); // a writer still blocked gets EPIPE
        m_writer.join();
    }
    Input(const Input&) = delete;
    Input& operator=(const Input&) = delete;
    [[nodiscard]] int fd() const { return m_fd; }

private:
    int m_fd = -1;
    std::thread m_writer;
};

// Records what the driver hands over; a record that is not "ok..." is rejected quoting the text, as
// a tool does that names the bad value; stops after `stop_after` records.
class Recorder final : public iots::input::Handler {
public:
    explicit Recorder(iots::input::Rejects& rejects, std::size_t stop_after = 1000)
        : m_rejects(rejects), m_stop_after(stop_after) {}

    bool record(std::string_view text, const Origin& origin) override {
        records.emplace_back(origin.topic.empty() ? std::to_string(origin.line)
                                                  : std::string(origin.topic),
                             std::string(text));
        if (text.substr(0, 2) != "ok")
            m_rejects.reject(origin, "bad value \"" + std::string(text) + "\"");
        return records.size() < m_stop_after;
    }
    void skipped(const Origin& origin) override {
        skips.push_back(origin.topic.empty() ? std::to_string(origin.line)
                                             : std::string(origin.topic));
    }
    bool poll() override {
        ++polls;
        return true;
    }
    void pause() override { ++pauses; }

    std::vector<std::pair<std::string, std::string>> records; // where, text
    std::vector<std::string> skips;
    int polls = 0;
    int pauses = 0;

private:
    iots::input::Rejects& m_rejects;
    std::size_t m_stop_after;
};

const iots::core::Logger& log() {
    static const iots::core::Logger l("iots-test", iots::core::Level::info);
    return l;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_rejected_record_is_counted_and_said_once_and_the_tool_goes_on) {
    iots::core::RejectPolicy policy;
    iots::input::Rejects rejects(policy, log());
    int exits = 0;
    rejects.before_exit([&] { ++exits; });
    CaptureStderr err;
    rejects.reject({.line = 17}, "value: not a finite number");
    rejects.reject({.topic = "iotshield/sensors/d/gas"}, "missing field \"value\"");
    rejects.too_long({.line = 20});
    BOOST_TEST(err.text() ==
               "iots-test: warning: line 17: value: not a finite number\n"
               "iots-test: warning: topic iotshield/sensors/d/gas: missing field \"value\"\n"
               "iots-test: warning: line 20: longer than 1048576 bytes (--max-line-bytes)\n");
    BOOST_TEST(rejects.count() == 3u);
    BOOST_TEST(exits == 0);
}

BOOST_AUTO_TEST_CASE(strict_ends_at_the_first_with_its_reason_as_the_error_only) {
    iots::core::RejectPolicy policy;
    policy.strict = true;
    iots::input::Rejects rejects(policy, log());
    int exits = 0;
    rejects.before_exit([&] { ++exits; });
    CaptureStderr err;
    iots::Exit code = iots::Exit::ok;
    BOOST_TEST(error_of([&] { rejects.reject({.line = 3}, "not a JSON object"); }, &code) ==
               "line 3: not a JSON object");
    BOOST_TEST(static_cast<int>(code) == 65);
    BOOST_TEST(exits == 1); // what came before is committed first
    BOOST_TEST(rejects.count() == 1u);
    BOOST_TEST(err.text() == ""); // said once: as the error, by the tool's one catch site
}

BOOST_AUTO_TEST_CASE(max_bad_lines_ends_at_the_one_too_many_after_its_warning) {
    iots::core::RejectPolicy policy;
    policy.max_bad_lines = 2;
    iots::input::Rejects rejects(policy, log());
    int exits = 0;
    rejects.before_exit([&] { ++exits; });
    CaptureStderr err;
    rejects.reject({.line = 1}, "a");
    rejects.reject({.line = 2}, "b");
    BOOST_TEST(exits == 0);
    iots::Exit code = iots::Exit::ok;
    BOOST_TEST(error_of([&] { rejects.reject({.line = 3}, "c"); }, &code) ==
               "more than 2 bad records (--max-bad-lines)");
    BOOST_TEST(static_cast<int>(code) == 65);
    BOOST_TEST(exits == 1);
    BOOST_TEST(err.text() == "iots-test: warning: line 1: a\niots-test: warning: line 2: b\n"
                             "iots-test: warning: line 3: c\n");

    iots::core::RejectPolicy none;
    none.max_bad_lines = 0; // none tolerated: the first ends it (0 is no "no limit")
    iots::input::Rejects zero(none, log());
    CaptureStderr quiet;
    BOOST_TEST(error_of([&] { zero.reject({.line = 9}, "x"); }) ==
               "more than 0 bad records (--max-bad-lines)");
}

BOOST_AUTO_TEST_CASE(control_characters_in_a_reason_or_topic_give_one_printable_line) {
    iots::core::RejectPolicy policy;
    iots::input::Rejects rejects(policy, log());
    CaptureStderr err;
    rejects.reject({.topic = "a/\n\x1b[2Jb"}, "label \"x\ny\rz\x7f\xc2\x85\"\t\\");
    BOOST_TEST(err.text() == "iots-test: warning: topic a/\\n\\x1b[2Jb: label "
                             "\"x\\ny\\rz\\x7f\\u0085\"\\t\\\\\n");
}

BOOST_AUTO_TEST_CASE(a_reason_that_quotes_the_record_itself_is_said_as_it_is) {
    // record/'s reasons quote a record's text as JSON strings: the same bytes as before the one
    // policy, its backslashes not doubled (iots-ingest: warning: line 4: label: unknown incident
    // kind "a\"b\\n").
    iots::core::RejectPolicy policy;
    iots::input::Rejects rejects(policy, log());
    CaptureStderr err;
    rejects.reject({.line = 4}, R"(label: unknown incident kind "a\"b\\n")");
    rejects.reject({.line = 5}, "unit: \"\u00e9t\u00e9\" is not ok, \u00e9t\u00e9 is");
    BOOST_TEST(err.text() ==
               "iots-test: warning: line 4: label: unknown incident kind \"a\\\"b\\\\n\"\n"
               "iots-test: warning: line 5: unit: \"\u00e9t\u00e9\" is not ok, \u00e9t\u00e9 is\n");
}

BOOST_AUTO_TEST_CASE(lines_reach_the_handler_numbered_blank_skipped_long_rejected) {
    iots::core::RejectPolicy policy;
    policy.max_line_bytes = 64;
    iots::input::Rejects rejects(policy, log());
    Recorder handler(rejects);
    const std::string long_line(65, 'x');
    Input in("ok 1\n \t\n" + long_line + "\nok 4\r\nbad\x1b[31m\x01\n" + std::string(64, 'o') +
             "\nok 7"); // the last line without its '\n'
    CaptureStderr err;
    const End end = iots::input::read_lines(in.fd(), rejects, handler);
    const std::string said = err.text();
    BOOST_TEST((end == End::input));
    const std::vector<std::pair<std::string, std::string>> want{{"1", "ok 1"},
                                                                {"4", "ok 4"},
                                                                {"5", "bad\x1b[31m\x01"},
                                                                {"6", std::string(64, 'o')},
                                                                {"7", "ok 7"}};
    BOOST_TEST((handler.records == want));
    BOOST_TEST((handler.skips == std::vector<std::string>{"3"}));
    BOOST_TEST(rejects.count() == 3u);
    // One line each, the control characters of line 5 escaped.
    BOOST_TEST(said == "iots-test: warning: line 3: longer than 64 bytes (--max-line-bytes)\n"
                       "iots-test: warning: line 5: bad value \"bad\\x1b[31m\\x01\"\n"
                       "iots-test: warning: line 6: bad value \"" +
                           std::string(64, 'o') + "\"\n");
    BOOST_TEST(handler.polls >= 1);
}

BOOST_AUTO_TEST_CASE(an_over_long_line_under_strict_ends_the_read_with_65) {
    iots::core::RejectPolicy policy;
    policy.max_line_bytes = 64;
    policy.strict = true;
    iots::input::Rejects rejects(policy, log());
    Recorder handler(rejects);
    Input in("ok 1\n" + std::string(100, 'y') + "\nok 3\n");
    iots::Exit code = iots::Exit::ok;
    BOOST_TEST(error_of([&] { iots::input::read_lines(in.fd(), rejects, handler); }, &code) ==
               "line 2: longer than 64 bytes (--max-line-bytes)");
    BOOST_TEST(static_cast<int>(code) == 65);
    BOOST_TEST(handler.records.size() == 1u); // line 3 was not read
}

BOOST_AUTO_TEST_CASE(the_handler_stops_the_read) {
    iots::core::RejectPolicy policy;
    iots::input::Rejects rejects(policy, log());
    Recorder handler(rejects, 2);
    Input in("ok 1\nok 2\nok 3\n");
    BOOST_TEST((iots::input::read_lines(in.fd(), rejects, handler) == End::handler));
    BOOST_TEST(handler.records.size() == 2u);
}

// A handler with a timer (iots-alert's wall clock) or another thread to hear (its narrator): an
// input that stays silent still gives it poll() after each wait_ms() and each wake.
class Waiter final : public iots::input::Handler {
public:
    Waiter(int wake_fd, int wait_ms, int polls_wanted)
        : m_wake(wake_fd), m_wait(wait_ms), m_wanted(polls_wanted) {}
    bool record(std::string_view /*text*/, const Origin& /*origin*/) override {
        ++records;
        return true;
    }
    bool poll() override {
        ++polls;
        if (m_wake >= 0) { // drain, as a tool does with what woke it
            std::uint64_t n = 0;
            [[maybe_unused]] const auto r = ::read(m_wake, &n, sizeof n);
        }
        return polls < m_wanted;
    }
    void pause() override { paused.store(true); }
    [[nodiscard]] int wake_fd() const override { return m_wake; }
    [[nodiscard]] int wait_ms() const override { return m_wait; }
    int polls = 0;
    int records = 0;
    std::atomic<bool> paused{false}; // the first poll has drained the wake descriptor

private:
    int m_wake;
    int m_wait;
    int m_wanted;
};

BOOST_AUTO_TEST_CASE(a_silent_input_still_polls_the_handler_after_each_wait,
                     *boost::unit_test::timeout(60)) { // a hang is the failure
    iots::core::RejectPolicy policy;
    iots::input::Rejects rejects(policy, log());
    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0); // nothing is ever written: the read end waits
    Waiter handler(-1, 1, 3);
    BOOST_TEST((iots::input::read_lines(fds[0], rejects, handler) == End::handler));
    BOOST_TEST(handler.polls == 3); // the first, then once after each of two timeouts
    BOOST_TEST(handler.records == 0);
    ::close(fds[0]);
    ::close(fds[1]);
}

BOOST_AUTO_TEST_CASE(the_wake_descriptor_ends_a_wait_without_a_timeout,
                     *boost::unit_test::timeout(60)) { // a hang is the failure
    iots::core::RejectPolicy policy;
    iots::input::Rejects rejects(policy, log());
    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0);
    const int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    BOOST_TEST_REQUIRE(wake >= 0);
    Waiter handler(wake, -1, 2); // no timeout: without the wake this would wait for ever
    // Wake only once the driver is about to wait: a wake written before the first poll() would be
    // drained by it, and the wait after it would then never end.
    std::thread waker([wake, &handler] {
        while (!handler.paused.load())
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(wake, &one, sizeof one);
    });
    BOOST_TEST((iots::input::read_lines(fds[0], rejects, handler) == End::handler));
    waker.join();
    BOOST_TEST(handler.polls == 2);
    ::close(wake);
    ::close(fds[0]);
    ::close(fds[1]);
}

BOOST_AUTO_TEST_CASE(a_payload_is_limited_and_named_by_its_topic) {
    iots::core::RejectPolicy policy;
    policy.max_line_bytes = 64;
    iots::input::Rejects rejects(policy, log());
    Recorder handler(rejects);
    CaptureStderr err;
    iots::mqtt::Message m;
    m.topic = "t/long";
    m.payload = std::string(65, 'z');
    BOOST_TEST(iots::input::deliver(m, rejects, handler)); // rejected: the input goes on
    m.topic = "t/ok";
    m.payload = std::string(64, 'o'); // at the limit: handed over (and rejected by the handler)
    BOOST_TEST(iots::input::deliver(m, rejects, handler));
    BOOST_TEST((handler.skips == std::vector<std::string>{"t/long"}));
    BOOST_TEST(handler.records.size() == 1u);
    BOOST_TEST(err.text() == "iots-test: warning: topic t/long: longer than 64 bytes "
                             "(--max-line-bytes)\n"
                             "iots-test: warning: topic t/ok: bad value \"" +
                                 std::string(64, 'o') + "\"\n");
}

BOOST_AUTO_TEST_CASE(messages_of_a_subscription_reach_the_handler_on_the_callers_thread) {
    iots::test::TestBroker broker;
    iots::core::BrokerOptions o;
    o.host = "127.0.0.1";
    o.port = broker.port();
    const iots::core::Logger quiet("iots-test", iots::core::Level::error);
    iots::core::RejectPolicy policy;
    policy.max_line_bytes = 64;
    iots::input::Rejects rejects(policy, quiet);
    Recorder handler(rejects, 3);
    iots::input::MessageInput input(o, quiet, 1024);
    input.client().connect();
    input.client().subscribe("in/#", 1);
    iots::mqtt::Client pub(o, quiet);
    pub.connect();
    pub.publish("in/a", "ok 1", 1);
    pub.publish("in/b", std::string(65, 'x'), 1); // too long
    pub.publish("in/c", "nope", 1);
    pub.publish("in/d", "ok 4", 1);
    pub.publish("in/e", "ok 5", 1); // after the handler stopped
    BOOST_TEST(pub.wait_published(20000));
    BOOST_TEST((input.run(rejects, handler) == End::handler));
    const std::vector<std::pair<std::string, std::string>> want{
        {"in/a", "ok 1"}, {"in/c", "nope"}, {"in/d", "ok 4"}};
    BOOST_TEST((handler.records == want));
    BOOST_TEST((handler.skips == std::vector<std::string>{"in/b"}));
    BOOST_TEST(rejects.count() == 2u);
    BOOST_TEST(handler.polls >= 1);
    input.client().disconnect();
}

BOOST_AUTO_TEST_CASE(queue_keeps_order_and_times_out_when_empty) {
    iots::input::BoundedQueue<int> q(4);
    std::vector<int> out;
    BOOST_TEST(!q.pop_all(out, std::chrono::milliseconds(0)));
    for (int i = 0; i < 4; ++i)
        q.push(i);
    BOOST_TEST(q.pop_all(out, std::chrono::milliseconds(0)));
    BOOST_TEST(out == (std::vector<int>{0, 1, 2, 3}));
    BOOST_TEST(q.empty());
}

BOOST_AUTO_TEST_CASE(the_queue_descriptor_is_readable_exactly_while_something_waits) {
    iots::input::BoundedQueue<int> q(4);
    const auto readable = [&] {
        pollfd p{q.fd(), POLLIN, 0};
        return ::poll(&p, 1, 0) == 1;
    };
    BOOST_TEST(!readable());
    q.push(1);
    q.push(2);
    BOOST_TEST(readable());
    std::vector<int> out;
    BOOST_TEST(q.pop_all(out, std::chrono::milliseconds(0)));
    BOOST_TEST(!readable());
    q.push(3);
    BOOST_TEST(readable());
}

BOOST_AUTO_TEST_CASE(a_full_queue_holds_the_producer_until_popped_or_closed) {
    iots::input::BoundedQueue<int> q(2);
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
