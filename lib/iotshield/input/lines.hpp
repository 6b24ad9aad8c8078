#pragma once
// The stdin input: NDJSON lines read with core::LineReader (interruptible by SIGINT/SIGTERM, at
// most --max-line-bytes a line).
#include "iotshield/input/handler.hpp"

namespace iots::input {

// Reads lines from fd and hands each to handler.record() with its line number, until the end of
// the input, SIGINT/SIGTERM, or the handler says stop. A blank line (spaces and tabs only) is no
// record: skipped, not counted. A line longer than --max-line-bytes is skipped and rejected
// ("line N: longer than M bytes (--max-line-bytes)"). Throws Error(io_error) when a read or wait
// fails, and what the handler and rejects throw.
End read_lines(int fd, Rejects& rejects, Handler& handler);

} // namespace iots::input
