#include "iotshield/ingest/sources.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/line_reader.hpp"
#include "iotshield/core/signals.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace iots::ingest {

namespace {

// Waits until fd is readable or timeout_ms passes (-1: no limit). False on timeout or a signal.
bool wait_readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    const int rc = ::poll(&p, 1, timeout_ms);
    if (rc < 0 && errno != EINTR)
        throw Error(Exit::io_error, std::string("poll on input failed: ") + std::strerror(errno));
    return rc > 0;
}

} // namespace

void run_stdin(const Options& options, Pipeline& pipeline) {
    core::LineReader reader(options.input_fd, options.max_line_bytes);
    const bool retention = options.writer.retain_ms > 0 && !options.db_path.empty();
    for (;;) {
        if (core::stop_requested())
            break;
        if (core::take_counters_request())
            pipeline.report_counters();
        if (!reader.buffered()) { // the next read may block
            // Nothing ready: the stream paused, commit the batch in hand now (latency first).
            if (pipeline.pending() && !wait_readable(options.input_fd, 0))
                pipeline.commit();
            if (!pipeline.pending()) {
                // Idle: wake up for retention (a signal interrupts poll too).
                int idle_ms = -1;
                if (retention)
                    idle_ms = pipeline.maintain(core::now_millis())
                                  ? 0
                                  : static_cast<int>(std::clamp<core::Millis>(
                                        options.writer.retain_every_ms, 10, 60000));
                if (!wait_readable(options.input_fd, idle_ms))
                    continue;
            }
        }
        const auto status = reader.next();
        if (status == core::LineReader::Status::end)
            break;
        if (status == core::LineReader::Status::interrupted)
            continue;
        const Origin origin{.line = reader.line_number()};
        const core::Millis now = monotonic_ms();
        if (status == core::LineReader::Status::too_long)
            pipeline.too_long(origin);
        else if (reader.line().find_first_not_of(" \t") != std::string_view::npos)
            pipeline.reading(reader.line(), origin, now); // blank lines are skipped
        if (pipeline.due(now))
            pipeline.commit();
    }
    pipeline.commit();
}

} // namespace iots::ingest
