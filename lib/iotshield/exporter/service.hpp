#pragma once
// iots-export: aggregates of the database that may leave the home, noised under a privacy policy
// and charged to the budget ledger; or the ledger's report. The main parses options and calls
// run().
#include "iotshield/core/log.hpp"
#include "iotshield/core/output.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/privacy/random.hpp"

#include <optional>
#include <string>

namespace iots::exporter {

struct Options {
    std::string db_path;
    std::string policy_path; // required to release; optional for --report (adds budget, left)
    std::string destination; // required to release; --report: only this one when given
    std::optional<core::Millis> since, until; // default: the last whole UTC day
    bool dry_run = false;
    bool report = false;
};

// Writes aggregates (or the plan, or the report) as NDJSON to out and a summary to log. Throws
// iots::Error: 77 when the release does not fit a day's budget (nothing is released or spent;
// --dry-run says so the same way), 78 for a bad policy, 66 for a missing database or policy,
// 2 for a range that is empty or not over yet. rng: getrandom(2) in the tool, seeded in tests.
int run(const Options& options, const core::Logger& log, core::LineWriter& out,
        privacy::RandomSource& rng, core::Millis now);

} // namespace iots::exporter
