// cli::run_tool, the one catch site: each error maps to its DESIGN §5 exit status with one
// "iots-test: error: ..." line on stderr; --help and --version exit 0; a usage error exits 2; a
// closed stdout (EPIPE) exits 0 quietly; a failed write to stdout (/dev/full) exits 74.
#define BOOST_TEST_MODULE cli_run_tool
#include "iotshield/cli/run_tool.hpp"
#include "iotshield/core/error.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

using iots::Exit;
using iots::cli::Context;

namespace {

struct Outcome {
    int rc;
    std::string out; // stdout
    std::string err; // stderr
};

std::string slurp(int fd) {
    std::string s;
    char buf[4096];
    ::lseek(fd, 0, SEEK_SET);
    ssize_t n = 0;
    while ((n = ::read(fd, buf, sizeof buf)) > 0)
        s.append(buf, static_cast<std::size_t>(n));
    return s;
}

int temp_file() {
    char name[] = "/tmp/iots-run-tool-XXXXXX";
    const int fd = ::mkstemp(name);
    BOOST_TEST_REQUIRE(fd >= 0);
    ::unlink(name);
    return fd;
}

// Runs the tool as main() would, with stdout on `out_fd` (a temp file unless given) and stderr
// on a temp file.
Outcome run(std::vector<std::string> args, iots::cli::ToolMain tool, int out_fd = -1) {
    args.insert(args.begin(), "iots-test");
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    const int out_file = temp_file();
    const int err_file = temp_file();
    std::cout.flush();
    std::cerr.flush();
    const int saved_out = ::dup(1);
    const int saved_err = ::dup(2);
    ::dup2(out_fd >= 0 ? out_fd : out_file, 1);
    ::dup2(err_file, 2);
    const int rc =
        iots::cli::run_tool(static_cast<int>(args.size()), argv.data(), "iots-test", tool);
    std::cout.flush();
    std::cerr.flush();
    ::dup2(saved_out, 1);
    ::dup2(saved_err, 2);
    ::close(saved_out);
    ::close(saved_err);
    Outcome o{rc, slurp(out_file), slurp(err_file)};
    ::close(out_file);
    ::close(err_file);
    return o;
}

// Tools: plain functions, as ToolMain is a function pointer.
int returns_zero(Context&) {
    return 0;
}
int returns_three(Context&) {
    return 3;
}
template <Exit code> int throws_error(Context&) {
    throw iots::Error(code, "it went wrong");
}
int throws_output_closed(Context&) {
    throw iots::OutputClosed();
}
int throws_runtime_error(Context&) {
    throw std::runtime_error("boom");
}
int throws_bad_alloc(Context&) {
    throw std::bad_alloc();
}
int throws_int(Context&) {
    throw 42;
}
int throws_exit_request(Context&) {
    throw iots::ExitRequest(5);
}

// A tool with options, like the real ones: prints --count lines.
int counting_tool(Context& ctx) {
    CLI::App app("counts");
    iots::cli::init_app(app);
    int count = 1;
    app.add_option("-n,--count", count, "How many lines")->check(CLI::Range(0, 1000));
    ctx.parse(app);
    ctx.log.info("counting to {}", count);
    ctx.log.debug("debug detail");
    for (int i = 0; i < count; ++i)
        ctx.out.write_line("{\"i\":" + std::to_string(i) + "}");
    return 0;
}

// Batches its output: the failure only shows at run_tool's final flush.
int batching_tool(Context& ctx) {
    ctx.out.set_flush_each_line(false);
    ctx.out.write_line("held back");
    return 0;
}

int lines_in(const std::string& s) {
    int n = 0;
    for (const char c : s)
        n += c == '\n' ? 1 : 0;
    return n;
}

} // namespace

BOOST_AUTO_TEST_CASE(errors_map_to_their_exit_codes) {
    struct Row {
        iots::cli::ToolMain tool;
        int rc;
        std::string err;
    };
    const std::vector<Row> rows = {
        {returns_zero, 0, ""},
        {returns_three, 3, ""},
        {throws_error<Exit::failure>, 1, "iots-test: error: it went wrong\n"},
        {throws_error<Exit::usage>, 2, "iots-test: error: it went wrong\n"},
        {throws_error<Exit::bad_input>, 65, "iots-test: error: it went wrong\n"},
        {throws_error<Exit::no_input>, 66, "iots-test: error: it went wrong\n"},
        {throws_error<Exit::unavailable>, 69, "iots-test: error: it went wrong\n"},
        {throws_error<Exit::io_error>, 74, "iots-test: error: it went wrong\n"},
        {throws_error<Exit::permission>, 77, "iots-test: error: it went wrong\n"},
        {throws_error<Exit::config>, 78, "iots-test: error: it went wrong\n"},
        {throws_output_closed, 0, ""},
        {throws_runtime_error, 1, "iots-test: error: boom\n"},
        {throws_bad_alloc, 1, "iots-test: error: out of memory\n"},
        {throws_int, 1, "iots-test: error: unknown error\n"},
        {throws_exit_request, 5, ""},
    };
    for (std::size_t i = 0; i < rows.size(); ++i) {
        BOOST_TEST_CONTEXT("row " << i) {
            const Outcome o = run({}, rows[i].tool);
            BOOST_TEST(o.rc == rows[i].rc);
            BOOST_TEST(o.err == rows[i].err);
            BOOST_TEST(o.out == "");
        }
    }
}

BOOST_AUTO_TEST_CASE(help_and_version_exit_zero_on_stdout) {
    const Outcome help = run({"--help"}, counting_tool);
    BOOST_TEST(help.rc == 0);
    BOOST_TEST(help.err == "");
    for (const char* option : {"--help", "--count", "--verbose", "--quiet-log", "--version"})
        BOOST_TEST(help.out.find(option) != std::string::npos, option << " in:\n" << help.out);
    BOOST_TEST(help.out.find("{\"i\"") == std::string::npos); // the tool did not run on

    const Outcome version = run({"--version"}, counting_tool);
    BOOST_TEST(version.rc == 0);
    BOOST_TEST(version.err == "");
    BOOST_TEST(lines_in(version.out) == 1);
    BOOST_TEST(version.out.find('.') != std::string::npos, version.out); // like 0.1.0
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_two_with_one_line) {
    struct Row {
        std::vector<std::string> args;
        std::string mention; // the message names what was wrong
    };
    const std::vector<Row> rows = {
        {{"--bogus"}, "--bogus"},
        {{"--count", "abc"}, "abc"},
        {{"--count", "5000"}, "5000"},
        {{"--count"}, "--count"},
        {{"-h"}, "-h"}, // -h is the broker host in the tools, never help
        {{"extra-positional"}, "extra-positional"},
    };
    for (const auto& row : rows) {
        BOOST_TEST_CONTEXT(row.args.front()) {
            const Outcome o = run(row.args, counting_tool);
            BOOST_TEST(o.rc == 2);
            BOOST_TEST(o.out == "");
            BOOST_TEST(o.err.rfind("iots-test: error: ", 0) == 0U, o.err);
            BOOST_TEST(lines_in(o.err) == 1, o.err);
            BOOST_TEST(o.err.find(row.mention) != std::string::npos, o.err);
            BOOST_TEST(o.err.find("--help") != std::string::npos, o.err);
        }
    }
}

BOOST_AUTO_TEST_CASE(data_goes_to_stdout_and_diagnostics_to_stderr) {
    const Outcome o = run({"-n", "3"}, counting_tool);
    BOOST_TEST(o.rc == 0);
    BOOST_TEST(o.out == "{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n");
    BOOST_TEST(o.err == "iots-test: info: counting to 3\n");

    const Outcome quiet = run({"-n", "1", "--quiet-log"}, counting_tool);
    BOOST_TEST(quiet.rc == 0);
    BOOST_TEST(quiet.err == "");

    const Outcome verbose = run({"-n", "1", "-v"}, counting_tool);
    BOOST_TEST(verbose.err == "iots-test: info: counting to 1\niots-test: debug: debug detail\n");
}

BOOST_AUTO_TEST_CASE(a_closed_stdout_ends_the_tool_quietly_with_zero) {
    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0);
    ::close(fds[0]); // the reader quit, as with `| head -1` after its line
    const Outcome o = run({"-n", "10"}, counting_tool, fds[1]);
    ::close(fds[1]);
    BOOST_TEST(o.rc == 0);
    BOOST_TEST(o.err == "iots-test: info: counting to 10\n"); // and no error line
}

BOOST_AUTO_TEST_CASE(a_failed_write_to_stdout_exits_74) {
    const int full = ::open("/dev/full", O_WRONLY);
    BOOST_TEST_REQUIRE(full >= 0);
    const Outcome o = run({"-n", "1", "--quiet-log"}, counting_tool, full);
    BOOST_TEST(o.rc == 74);
    BOOST_TEST(o.err ==
               "iots-test: error: write to standard output failed: No space left on device\n");
    // batched output fails at run_tool's final flush, and is reported the same way
    const Outcome batched = run({}, batching_tool, full);
    BOOST_TEST(batched.rc == 74);
    BOOST_TEST(lines_in(batched.err) == 1);
    ::close(full);
}
