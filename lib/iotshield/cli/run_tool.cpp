#include "iotshield/cli/run_tool.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/signals.hpp"

#include <cstdlib>
#include <exception>
#include <iostream>

#ifndef IOTS_VERSION
#define IOTS_VERSION "0.1.0"
#endif

namespace iots::cli {

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
        const int rc = app.exit(e); // prints help, version or the usage error
        throw ExitRequest(rc == 0 ? 0 : static_cast<int>(Exit::usage));
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
    }
}

} // namespace iots::cli
