// cli/options: the checks every tool's options share. A bad number is refused in one form that
// names the accepted range; numbers are read in decimal; files named by options are checked, and
// their errors say why; a deprecated spelling is still read and is reported.
#define BOOST_TEST_MODULE cli_options
#include "iotshield/cli/options.hpp"
#include "iotshield/core/error.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <string>
#include <vector>

namespace cli = iots::cli;
using iots::Exit;

namespace {

// Parses args into app (after the numeric checks Context::parse adds); returns CLI11's message of
// the first error, or "" when the arguments were taken.
std::string parse(CLI::App& app, std::vector<std::string> args) {
    for (CLI::Option* opt : app.get_options())
        if (opt->get_type_size() != 0)
            cli::check_number(*opt);
    args.insert(args.begin(), "iots-test");
    std::vector<const char*> argv;
    for (const auto& a : args)
        argv.push_back(a.c_str());
    try {
        app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
        return e.what();
    }
    return {};
}

struct TempDir {
    std::string path;
    TempDir() {
        char name[] = "/tmp/iots-cli-options-XXXXXX";
        BOOST_TEST_REQUIRE(::mkdtemp(name) != nullptr);
        path = name;
    }
    ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

Exit code_of(const auto& fn) {
    try {
        fn();
    } catch (const iots::Error& e) {
        return e.code();
    }
    return Exit::ok;
}

std::string message_of(const auto& fn) {
    try {
        fn();
    } catch (const iots::Error& e) {
        return e.what();
    }
    return {};
}

} // namespace

BOOST_AUTO_TEST_CASE(a_whole_number_out_of_range_is_named_with_the_range) {
    CLI::App app;
    int port = 1883;
    app.add_option("--port", port)->check(cli::whole_number(1, 65535));
    BOOST_TEST(parse(app, {"--port", "0"}) == "--port: '0' is not a whole number from 1 to 65535");
    CLI::App app2;
    app2.add_option("--port", port)->check(cli::whole_number(1, 65535));
    BOOST_TEST(parse(app2, {"--port", "65535"}) == "");
    BOOST_TEST(port == 65535);
}

BOOST_AUTO_TEST_CASE(an_unsigned_option_refuses_a_minus_sign_rather_than_wrapping) {
    CLI::App app;
    std::uint64_t seed = 1;
    app.add_option("--seed", seed);
    BOOST_TEST(parse(app, {"--seed", "-1"}) == "--seed: '-1' is not a whole number of 0 or more");
    BOOST_TEST(seed == 1U);
}

BOOST_AUTO_TEST_CASE(numbers_are_read_in_decimal) {
    CLI::App app;
    std::uint64_t seed = 1;
    double offset = 0;
    app.add_option("--seed", seed);
    app.add_option("--utc-offset", offset);
    BOOST_TEST(parse(app, {"--seed", "010", "--utc-offset", "1e0"}) == "");
    BOOST_TEST(seed == 10U); // CLI11 alone reads octal 8
    BOOST_TEST(offset == 1.0);
    CLI::App plus;
    plus.add_option("--seed", seed);
    plus.add_option("--utc-offset", offset);
    BOOST_TEST(parse(plus, {"--seed", "+7", "--utc-offset", "+5.5"}) == "");
    BOOST_TEST(seed == 7U);
    BOOST_TEST(offset == 5.5);
    CLI::App hex;
    hex.add_option("--seed", seed);
    BOOST_TEST(parse(hex, {"--seed", "0x10"}) ==
               "--seed: '0x10' is not a whole number of 0 or more");
}

BOOST_AUTO_TEST_CASE(a_level_names_its_range_and_refuses_what_is_not_finite) {
    for (const char* bad : {"-500", "banana", "nan", "inf", "126"}) {
        CLI::App app;
        double heat = 57;
        app.add_option("--heat-c", heat)->check(cli::heat_level());
        BOOST_TEST(parse(app, {"--heat-c", bad}) ==
                   std::string("--heat-c: '") + bad + "' is not a number from 30 to 125");
        BOOST_TEST(heat == 57.0);
    }
    CLI::App app;
    double gas = 1500;
    app.add_option("--gas-ppm", gas)->check(cli::gas_level());
    BOOST_TEST(parse(app, {"--gas-ppm", "0"}) ==
               "--gas-ppm: '0' is not a number above 0, up to 10000");
}

BOOST_AUTO_TEST_CASE(a_duration_of_zero_is_refused_where_it_means_nothing) {
    std::string text;
    CLI::App app;
    app.add_option("--duration", text)->check(cli::positive_duration());
    BOOST_TEST(parse(app, {"--duration", "0s"}) ==
               "--duration: '0s' is not a duration longer than 0");
    CLI::App app2;
    app2.add_option("--duration", text)->check(cli::positive_duration());
    BOOST_TEST(parse(app2, {"--duration", "1x"}) ==
               "--duration: '1x' is not a duration (like 500ms, 5s, 2h, 14d)");
    CLI::App app3;
    app3.add_option("--poll", text)->check(cli::duration_between(10, 10000));
    BOOST_TEST(parse(app3, {"--poll", "5ms"}) ==
               "--poll: '5ms' is not a duration from 10ms to 10s");
    CLI::App app4;
    app4.add_option("--poll", text)->check(cli::duration_between(10, 10000));
    BOOST_TEST(parse(app4, {"--poll", "10s"}) == "");
    BOOST_TEST(text == "10s");
}

BOOST_AUTO_TEST_CASE(a_secret_file_gives_its_first_line_or_the_reason_it_cannot) {
    TempDir dir;
    const std::string file = dir.path + "/pw";
    std::ofstream(file) << "s3cret\r\nsecond line\n";
    BOOST_TEST_REQUIRE(::chmod(file.c_str(), 0600) == 0);
    BOOST_TEST(cli::read_first_line("--password-file", file) == "s3cret");
    const std::string missing = dir.path + "/missing";
    BOOST_TEST(message_of([&] { (void)cli::read_first_line("--password-file", missing); }) ==
               "--password-file " + missing + ": cannot read: No such file or directory");
    BOOST_TEST(static_cast<int>(code_of([&] {
                   (void)cli::read_first_line("--password-file", dir.path);
               })) == static_cast<int>(Exit::no_input));
    BOOST_TEST(message_of([&] { (void)cli::read_first_line("--password-file", dir.path); }) ==
               "--password-file " + dir.path + ": cannot read: Is a directory");
    CLI::App app;
    std::string key_file;
    app.add_option("--api-key-file", key_file)->check(cli::readable_file("--api-key-file"));
    BOOST_TEST(message_of([&] {
                   (void)parse(app, {"--api-key-file", missing});
               }) == "--api-key-file " + missing + ": cannot read: No such file or directory");
}

BOOST_AUTO_TEST_CASE(a_secret_file_others_may_read_or_write_is_refused_without_its_secret) {
    TempDir dir;
    const std::string file = dir.path + "/pw";
    std::ofstream(file) << "s3cret-never-shown\n";
    for (const unsigned mode : {0644U, 0640U, 0604U, 0620U, 0602U}) {
        BOOST_TEST_REQUIRE(::chmod(file.c_str(), mode) == 0);
        const std::string m =
            message_of([&] { (void)cli::read_first_line("--password-file", file); });
        BOOST_TEST(m ==
                   fmt::format("--password-file {}: open to others (mode {:04o}): chmod 600 {}",
                               file, mode, file));
        BOOST_TEST(m.find("s3cret") == std::string::npos);
        BOOST_TEST(static_cast<int>(code_of([&] {
                       (void)cli::read_first_line("--password-file", file);
                   })) == static_cast<int>(Exit::permission));
    }
    for (const unsigned mode : {0600U, 0400U}) { // a systemd credential is 0400
        BOOST_TEST_REQUIRE(::chmod(file.c_str(), mode) == 0);
        BOOST_TEST(cli::read_first_line("--password-file", file) == "s3cret-never-shown");
    }
}

BOOST_AUTO_TEST_CASE(a_systemd_credential_granted_by_an_acl_is_read_elsewhere_it_is_refused) {
    // systemd writes a credential 0400 and grants the service's user read access by an ACL, whose
    // mask then shows in the group bits: 0440 under $CREDENTIALS_DIRECTORY is the service's own.
    TempDir dir;
    const std::string creds = dir.path + "/credentials";
    BOOST_TEST_REQUIRE(::mkdir(creds.c_str(), 0700) == 0);
    const std::string credential = creds + "/mqtt-password";
    const std::string elsewhere = dir.path + "/pw";
    for (const auto& file : {credential, elsewhere}) {
        std::ofstream(file) << "s3cret\n";
        BOOST_TEST_REQUIRE(::chmod(file.c_str(), 0440) == 0);
    }
    BOOST_TEST_REQUIRE(::setenv("CREDENTIALS_DIRECTORY", creds.c_str(), 1) == 0);
    BOOST_TEST(cli::read_first_line("--password-file", credential) == "s3cret");
    BOOST_TEST(static_cast<int>(code_of([&] {
                   (void)cli::read_first_line("--password-file", elsewhere);
               })) == static_cast<int>(Exit::permission));
    // Writable by the group, or readable by others, is refused even there.
    for (const unsigned mode : {0460U, 0444U}) {
        BOOST_TEST_REQUIRE(::chmod(credential.c_str(), mode) == 0);
        BOOST_TEST(static_cast<int>(code_of([&] {
                       (void)cli::read_first_line("--password-file", credential);
                   })) == static_cast<int>(Exit::permission));
    }
    BOOST_TEST_REQUIRE(::chmod(credential.c_str(), 0440) == 0);
    BOOST_TEST_REQUIRE(::unsetenv("CREDENTIALS_DIRECTORY") == 0);
    BOOST_TEST(static_cast<int>(code_of([&] {
                   (void)cli::read_first_line("--password-file", credential);
               })) == static_cast<int>(Exit::permission));
}

BOOST_AUTO_TEST_CASE(a_secret_in_a_pipe_is_left_for_the_tool_to_read) {
    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0);
    BOOST_TEST_REQUIRE(::write(fds[1], "key\n", 4) == 4);
    ::close(fds[1]);
    CLI::App app;
    std::string key_file;
    app.add_option("--api-key-file", key_file)->check(cli::readable_file("--api-key-file"));
    BOOST_TEST(parse(app, {"--api-key-file", "/dev/fd/" + std::to_string(fds[0])}) == "");
    char buf[8] = {};
    BOOST_TEST(::read(fds[0], buf, sizeof buf) == 4);
    BOOST_TEST(std::string(buf, 4) == "key\n");
    ::close(fds[0]);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_no_database_is_named) {
    TempDir dir;
    const std::string notdb = dir.path + "/notdb.db";
    std::ofstream(notdb) << "not a database\n";
    const std::string empty = dir.path + "/empty.db";
    std::ofstream{empty};
    CLI::App app;
    std::string db;
    app.add_option("--db", db)->check(cli::sqlite_file("--db"));
    BOOST_TEST(message_of([&] {
                   (void)parse(app, {"--db", notdb});
               }) == "--db " + notdb + ": not an SQLite database");
    CLI::App ok;
    ok.add_option("--db", db)->check(cli::sqlite_file("--db"));
    BOOST_TEST(parse(ok, {"--db", empty}) == ""); // a new database is created in it
}

BOOST_AUTO_TEST_CASE(an_output_file_is_checked_before_any_work) {
    TempDir dir;
    std::string model;
    const std::string nowhere = dir.path + "/none/m.model";
    CLI::App app;
    app.add_option("--model", model)->check(cli::writable_file("--model"));
    BOOST_TEST(message_of([&] {
                   (void)parse(app, {"--model", nowhere});
               }) == "--model " + nowhere + ": cannot write in " + dir.path +
                         "/none: No such file or directory");
    CLI::App app2;
    app2.add_option("--model", model)->check(cli::writable_file("--model"));
    BOOST_TEST(message_of([&] {
                   (void)parse(app2, {"--model", dir.path});
               }) == "--model " + dir.path + ": is a directory");
    CLI::App app3;
    app3.add_option("--model", model)->check(cli::writable_file("--model"));
    BOOST_TEST(parse(app3, {"--model", dir.path + "/m.model"}) == "");
}

BOOST_AUTO_TEST_CASE(a_deprecated_spelling_is_read_hidden_and_reported) {
    CLI::App app;
    std::string model;
    app.add_option("--llm-model", model);
    auto* old = app.add_option("--model", model);
    cli::deprecated_alias(old, "--llm-model");
    BOOST_TEST(app.help().find("--model ") == std::string::npos);
    BOOST_TEST(cli::deprecation_warning(*old) == "");
    BOOST_TEST(parse(app, {"--model", "llama3.2"}) == "");
    BOOST_TEST(model == "llama3.2");
    BOOST_TEST(cli::deprecation_warning(*old) == "--model is deprecated: use --llm-model");
}

// 2025-10-06T00:00:00Z, as RFC 3339 in UTC or with an offset, or as epoch milliseconds.
BOOST_AUTO_TEST_CASE(time_options_take_rfc3339_or_epoch_ms) {
    constexpr std::int64_t kT0 = 1759708800000;
    BOOST_TEST(iots::cli::parse_time("--since", "2025-10-06T00:00:00Z") == kT0);
    BOOST_TEST(iots::cli::parse_time("--since", "2025-10-06T02:00:00+02:00") == kT0);
    BOOST_TEST(iots::cli::parse_time("--until", "1759708800000") == kT0);
    for (const char* bad : {"yesterday", "", "12x", "-", "1.5"}) {
        try {
            (void)iots::cli::parse_time("--until", bad);
            BOOST_ERROR("accepted: '" << bad << "'");
        } catch (const iots::Error& e) {
            BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(iots::Exit::usage));
            BOOST_TEST(std::string(e.what()) ==
                       std::string("--until: '") + bad + "' is neither RFC 3339 nor epoch ms");
        }
    }
}
