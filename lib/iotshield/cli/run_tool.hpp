#pragma once
// Every tool's main() is a one-line trampoline into run_tool, the one place that maps errors to
// exit codes (DESIGN §5) and prints "iots-x: error: ...".
#include "iotshield/core/log.hpp"
#include "iotshield/core/output.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace iots::cli {

struct Context {
    int argc;
    char** argv;
    core::Logger log;
    core::LineWriter out;

    // Parses argv into app. --help/--version print on stdout and end the tool with 0; a usage error
    // logs one line ("iots-x: error: --port: ... (see --help)") and ends it with 2. Adds
    // -v/--verbose, --quiet-log and --version first.
    void parse(CLI::App& app);
};

// Sets --help as the only help flag (-h is the broker host in every tool, as in mosquitto_sub).
void init_app(CLI::App& app);

using ToolMain = int (*)(Context&);

int run_tool(int argc, char** argv, const char* program, ToolMain tool);

} // namespace iots::cli
