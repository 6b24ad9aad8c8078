#include "iotshield/train/input.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/line_reader.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/record/parser.hpp"

namespace iots::train {

std::uint64_t read_stdin(const core::Logger& log,
                         const std::function<void(const record::Reading&)>& each) {
    std::uint64_t bad = 0;
    core::LineReader reader(0);
    record::Parser parser;
    record::Reading r;
    for (auto st = reader.next(); st != core::LineReader::Status::end; st = reader.next()) {
        if (core::stop_requested())
            throw Error(Exit::failure, "interrupted: no model written");
        if (st == core::LineReader::Status::interrupted)
            continue;
        if (st == core::LineReader::Status::too_long || !parser.parse(reader.line(), r)) {
            ++bad;
            log.warn("line {}: {}", reader.line_number(),
                     st == core::LineReader::Status::too_long ? "line too long" : parser.error());
            continue;
        }
        each(r);
    }
    return bad;
}

} // namespace iots::train
