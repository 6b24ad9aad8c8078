#include "iotshield/ingest/sources.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/line_reader.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/core/time.hpp"

#include <poll.h>

#include <cerrno>
#include <cstring>

namespace iots::ingest {

namespace {

// Waits until fd is readable or timeout_ms passes (-1: no limit). False on timeout, a signal, or
// when the store thread failed (wake readable: the caller's pipeline.check() throws).
bool wait_readable(int fd, int wake, int timeout_ms) {
    pollfd p[2] = {{fd, POLLIN, 0}, {wake, POLLIN, 0}};
    const int rc = ::poll(p, wake >= 0 ? 2 : 1, timeout_ms);
    if (rc < 0 && errno != EINTR)
        throw Error(Exit::io_error, std::string("poll on input failed: ") + std::strerror(errno));
    return rc > 0 && p[0].revents != 0;
}

} // namespace

void run_stdin(const Options& options, Pipeline& pipeline) {
    core::LineReader reader(options.input_fd, options.max_line_bytes);
    const int wake = pipeline.wake_fd();
    for (;;) {
        if (core::stop_requested())
            break;
        pipeline.check();
        if (core::take_counters_request())
            pipeline.report_counters();
        if (!reader.ready()) { // the next read may block (a part of a line is no line)
            // Nothing ready: the stream paused, commit the batch in hand now (latency first, and
            // the write lock is not held while the input waits).
            if (pipeline.pending())
                pipeline.commit();
            // Idle: wait for input (a signal interrupts poll; retention runs on the store thread).
            if (!pipeline.pending() && !wait_readable(options.input_fd, wake, -1))
                continue;
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
            pipeline.reading(reader.line(), origin, now, core::now_millis()); // blank: skipped
        if (pipeline.due(now))
            pipeline.commit();
    }
    pipeline.sync();
}

} // namespace iots::ingest
