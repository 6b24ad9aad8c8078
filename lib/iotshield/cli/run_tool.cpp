#include "iotshield/cli/run_tool.hpp"

#include "iotshield/cli/options.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/core/signals.hpp"

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

#ifndef IOTS_VERSION
#define IOTS_VERSION "0.1.0"
#endif

namespace iots::cli {

namespace {
// CLI11's messages as one diagnostic line: newlines folded, first letter lowercase ("the following
// argument was not expected: --foo").
std::string one_line(std::string_view message) {
    std::string out;
    out.reserve(message.size());
    for (const char c : message) {
        if (c == '\n' || c == '\r') {
            if (!out.empty() && out.back() != ' ')
                out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    if (out.size() > 1 && out[0] >= 'A' && out[0] <= 'Z' && out[1] >= 'a' && out[1] <= 'z')
        out[0] = static_cast<char>(out[0] - 'A' + 'a');
    return out;
}

// CLI11's help without what the help texts say better: no validator descriptions after the type
// ("INT:INT in [1 - 65535]"), no "(Env:IOTS_DB)" beside "(env IOTS_DB)".
class Formatter : public CLI::Formatter {
public:
    std::string make_option_opts(const CLI::Option* opt) const override {
        std::string out;
        if (!opt->get_option_text().empty())
            return " " + opt->get_option_text();
        if (opt->get_type_size() != 0) {
            out += " " + opt->get_type_name();
            if (opt->get_expected_max() == CLI::detail::expected_max_vector_size)
                out += " ...";
            if (opt->get_required())
                out += " REQUIRED";
        }
        for (const CLI::Option* other : opt->get_excludes())
            out += " (not with " + other->get_name() + ")";
        return out;
    }
};

// An unknown option or a stray argument, named: "unknown option --bogus".
std::string unexpected(const std::vector<std::string>& extras) {
    const std::string& first = extras.front();
    if (first.size() > 1 && first[0] == '-')
        return "unknown option " + first;
    return "unexpected argument '" + first + "'";
}

} // namespace

void init_app(CLI::App& app) {
    app.set_help_flag("--help", "Print this help and exit");
    app.formatter(std::make_shared<Formatter>());
}

void Context::parse(CLI::App& app) {
    app.set_version_flag("--version", std::string(IOTS_VERSION));
    int verbose = 0;
    bool quiet = false;
    app.add_flag("-v,--verbose", verbose, "More diagnostics on stderr (repeat for debug)");
    app.add_flag("--quiet-log", quiet, "Only errors on stderr");
    for (CLI::Option* opt : app.get_options())
        if (opt->get_type_size() != 0)
            check_number(*opt);
    // CLI11 checks values and required options before it looks for unknown ones: an unknown
    // option (a typo, often) is named first, whatever else went wrong.
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) { // --help, --version: CLI11 prints them on stdout
            app.exit(e);
            throw ExitRequest(0);
        }
        const auto extras = app.remaining();
        log.error("{} (see --help)", extras.empty() ? one_line(e.what()) : unexpected(extras));
        throw ExitRequest(static_cast<int>(Exit::usage));
    } catch (const Error&) { // a file named by an option, checked as it was read
        if (const auto extras = app.remaining(); !extras.empty()) {
            log.error("{} (see --help)", unexpected(extras));
            throw ExitRequest(static_cast<int>(Exit::usage));
        }
        throw;
    }
    for (const CLI::Option* opt : app.get_options())
        if (const auto warning = deprecation_warning(*opt); !warning.empty())
            log.warn("{}", warning);
    if (quiet)
        log.set_threshold(core::Level::error);
    else if (verbose > 0)
        log.set_threshold(core::Level::debug);
}

int run_tool(int argc, char** argv, const char* program, ToolMain tool) {
    core::install_signal_handlers();
    Context ctx{argc, argv, core::Logger(program), core::LineWriter(1, true)};
    try {
        int rc = tool(ctx);
        ctx.out.flush();
        return rc;
    } catch (const ExitRequest& e) {
        return e.status();
    } catch (const OutputStalled&) { // stopped by a signal while nobody read stdout
        ctx.log.warn("stdout is not being read; stopping without writing the rest");
        return 0;
    } catch (const OutputClosed&) {
        return 0;
    } catch (const Error& e) {
        ctx.log.error("{}", e.what());
        return static_cast<int>(e.code());
    } catch (const std::bad_alloc&) {
        ctx.log.error("out of memory");
        return static_cast<int>(Exit::failure);
    } catch (const std::exception& e) {
        ctx.log.error("{}", e.what());
        return static_cast<int>(Exit::failure);
    } catch (...) {
        ctx.log.error("unknown error");
        return static_cast<int>(Exit::failure);
    }
}

} // namespace iots::cli
