#include "iotshield/input/lines.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/line_reader.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/input/wait.hpp"

namespace iots::input {

End read_lines(int fd, Rejects& rejects, Handler& handler) {
    core::LineReader reader(fd, rejects.policy().max_line_bytes);
    unsigned since_poll = kPollEvery; // poll first
    for (;;) {
        if (core::stop_requested())
            return End::stop;
        if (since_poll >= kPollEvery) {
            if (!handler.poll())
                return End::handler;
            since_poll = 0;
        }
        if (!reader.ready()) { // the next read may wait (a part of a line is no line)
            handler.pause();
            since_poll = kPollEvery;
            if (!wait_readable(fd, handler.wake_fd(), handler.wait_ms()))
                continue; // a timeout, a signal or the wake descriptor: poll again
        }
        const auto status = reader.next();
        if (status == core::LineReader::Status::end)
            return End::input;
        if (status == core::LineReader::Status::interrupted) {
            since_poll = kPollEvery;
            continue;
        }
        ++since_poll;
        const Origin origin{.line = reader.line_number()};
        if (status == core::LineReader::Status::too_long) {
            handler.skipped(origin);
            rejects.too_long(origin);
        } else if (reader.line().find_first_not_of(" \t") != std::string_view::npos) {
            if (!handler.record(reader.line(), origin))
                return End::handler;
        }
    }
}

} // namespace iots::input
