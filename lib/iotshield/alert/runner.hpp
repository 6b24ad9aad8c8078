#pragma once
// iots-alert's loop: scored readings in (stdin or MQTT), alerts out at once (stdout, database,
// MQTT, --exec), language-model updates later from the narrator thread.
#include "iotshield/alert/exec.hpp"
#include "iotshield/alert/incident.hpp"
#include "iotshield/alert/narrator.hpp"
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/core/output.hpp"
#include "iotshield/core/reject_policy.hpp"

#include <optional>
#include <string>

namespace iots::alert {

enum class NarratorKind { rules, gemini, openai };

struct RunOptions {
    core::BrokerOptions broker; // host empty: stdin
    std::string db_path;        // empty: no database
    TrackerOptions tracker;
    NarratorKind narrator = NarratorKind::rules;
    NarratorOptions llm;
    Detail facts = Detail::exact; // coarse for a narrator off the box (llm.hpp)
    bool dry_run = false;         // print each request body on stderr, send nothing
    ExecOptions exec;             // command empty: none
    core::RejectPolicy input;     // --strict, --max-bad-lines, --max-line-bytes
    std::uint64_t count = 0;      // -C: stop after this many alerts (0: no limit)
};

// --narrator: for gemini and openai the provider, its base URL (url), its default model unless
// o.llm.model names one, and the API key: key_file's when given, else the environment's
// (GEMINI_API_KEY, OPENAI_API_KEY). Throws Error(usage) for gemini without a key outside --dry-run.
void choose_narrator(RunOptions& o, NarratorKind kind, const std::string& url,
                     const std::optional<std::string>& key_file);

// Returns the exit status (DESIGN §5); throws iots::Error for the one catch site.
int run(const RunOptions& options, const core::Logger& log, core::LineWriter& out);

} // namespace iots::alert
