#pragma once
// iots-act's loop: alerts in (stdin, or <prefix>/alerts/# with --input mqtt), commands out through
// the control service (control/, the one iots-serve uses: the commands table, the acks and their
// latency), action records and unconfirmed-command alerts on stdout and on
// <prefix>/alerts/<device>.
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/core/output.hpp"
#include "iotshield/core/reject_policy.hpp"
#include "iotshield/core/zone.hpp"

#include <string>

namespace iots::act {

struct RunOptions {
    std::string rules_path;
    core::BrokerOptions broker; // where commands go; host empty: none (only with dry_run)
    bool mqtt_input = false;    // read alerts from the broker instead of stdin
    std::string db_path;        // empty: the commands are kept in memory only
    bool dry_run = false;       // print what would be done, send nothing
    core::Zone zone;            // the home's, for the rules' time windows
    core::RejectPolicy input;   // --strict, --max-bad-lines, --max-line-bytes
};

// Returns the exit status (DESIGN §5); throws iots::Error for the one catch site: 78 for a rules
// file that is refused, 66 for one that cannot be read.
int run(const RunOptions& options, const core::Logger& log, core::LineWriter& out);

} // namespace iots::act
