#include "iotshield/cli/run_tool.hpp"

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
} // namespace

void init_app(CLI::App& app) {
    app.set_help_flag("--help", "Print this help and exit");
}

void Context::parse(CLI::App& app) {
    app.set_version_flag("--version", std::string(IOTS_VERSION));
    int verbose = 0;
    bool quiet = false;
    app.add_flag("-v,--verbose", verbose, "More diagnostics on stderr (repeat for debug)");
    app.add_flag("--quiet-log", quiet, "Only errors on stderr");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) { // --help, --version: CLI11 prints them on stdout
            app.exit(e);
            throw ExitRequest(0);
        }
        log.error("{} (see --help)", one_line(e.what()));
        throw ExitRequest(static_cast<int>(Exit::usage));
    }
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
