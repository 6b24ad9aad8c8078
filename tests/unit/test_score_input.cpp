// iots-detect's input rules, kept in score/input.* until a shared input driver replaces them:
// where a record came from as diagnostics name it, --strict and --max-bad-lines, and what the
// stdin loop hands the service (every line in order, an over-long line told before it is
// rejected).
#define BOOST_TEST_MODULE score_input
#include "iotshield/core/error.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/score/input.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using iots::score::Origin;
using iots::score::Rejects;

namespace {

const iots::core::Logger& quiet() {
    static const iots::core::Logger log("test", iots::core::Level::error);
    return log;
}

// The exit code and message of what f() threw; code 0 when it threw nothing.
template <typename F> std::pair<int, std::string> thrown(F f) {
    try {
        f();
    } catch (const iots::Error& e) {
        return {static_cast<int>(e.code()), e.what()};
    }
    return {0, ""};
}

const int kBadInput = static_cast<int>(iots::Exit::bad_input);

// What the handler was given, one string per record and skipped line (with the rejects counted
// by then); polls depend on how reads fall and are left out.
class Recorder final : public iots::score::Handler {
public:
    explicit Recorder(const Rejects& rejects) : m_rejects(rejects) {}
    std::vector<std::string> calls;
    void record(std::string_view text, const Origin& origin) override {
        calls.push_back(origin.describe() + " " + std::string(text));
    }
    void skipped(const Origin& origin) override {
        calls.push_back("skipped " + origin.describe() + " after " +
                        std::to_string(m_rejects.count()) + " rejects");
    }
    void poll(bool /*paused*/) override {}

private:
    const Rejects& m_rejects;
};

} // namespace

BOOST_AUTO_TEST_CASE(origins_name_the_line_or_the_topic) {
    BOOST_TEST(Origin::line(17).describe() == "line 17");
    BOOST_TEST(Origin::topic("iotshield/sensors/a/gas").describe() ==
               "topic iotshield/sensors/a/gas");
}

BOOST_AUTO_TEST_CASE(strict_stops_at_the_first_invalid_record) {
    Rejects rejects(quiet(), true, 0);
    const auto [code, what] = thrown([&] { rejects.reject(Origin::line(3), "bad value"); });
    BOOST_TEST(code == kBadInput);
    BOOST_TEST(what == "line 3: bad value");
    BOOST_TEST(rejects.count() == 1U);
}

BOOST_AUTO_TEST_CASE(max_bad_lines_stops_past_the_limit) {
    Rejects rejects(quiet(), false, 2);
    BOOST_TEST(thrown([&] { rejects.reject(Origin::line(1), "x"); }).first == 0);
    BOOST_TEST(thrown([&] { rejects.reject(Origin::topic("t/a"), "y"); }).first == 0);
    const auto [code, what] = thrown([&] { rejects.reject(Origin::topic("t/b"), "z"); });
    BOOST_TEST(code == kBadInput);
    BOOST_TEST(what == "topic t/b: z");
    BOOST_TEST(rejects.count() == 3U);
}

BOOST_AUTO_TEST_CASE(without_a_limit_rejects_are_only_counted) {
    Rejects rejects(quiet(), false, 0);
    for (std::uint64_t i = 1; i <= 5000; ++i)
        BOOST_REQUIRE(thrown([&] { rejects.reject(Origin::line(i), "x"); }).first == 0);
    BOOST_TEST(rejects.count() == 5000U);
}

BOOST_AUTO_TEST_CASE(stdin_hands_every_line_and_tells_an_over_long_one_before_rejecting_it) {
    std::string tmpl = (fs::temp_directory_path() / "iots-score-XXXXXX").string();
    const fs::path dir = ::mkdtemp(tmpl.data());
    const std::string path = (dir / "in.ndjson").string();
    {
        std::ofstream out(path);
        out << "first\n" << std::string(2 << 20, 'x') << "\nthird\n";
    }
    const int saved = ::dup(0);
    const int fd = ::open(path.c_str(), O_RDONLY);
    BOOST_REQUIRE(fd >= 0);
    BOOST_REQUIRE(::dup2(fd, 0) == 0);
    ::close(fd);
    Rejects rejects(quiet(), false, 0);
    Recorder handler(rejects);
    iots::score::read_stdin(handler, rejects);
    ::dup2(saved, 0);
    ::close(saved);
    fs::remove_all(dir);

    BOOST_TEST(rejects.count() == 1U);
    const std::vector<std::string> want = {"line 1 first", "skipped line 2 after 0 rejects",
                                           "line 3 third"};
    BOOST_TEST(handler.calls == want, boost::test_tools::per_element());
}
