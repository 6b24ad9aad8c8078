#include "iotshield/ingest/pipeline.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/record/sensor.hpp"
#include "iotshield/record/serialize.hpp"

#include <fmt/format.h>

#include <chrono>

namespace iots::ingest {

core::Millis monotonic_ms() noexcept {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

namespace {
std::string where(const Origin& o) {
    if (o.topic.empty())
        return fmt::format("line {}", o.line);
    return fmt::format("topic {}", o.topic);
}
} // namespace

Pipeline::Pipeline(const Options& options, const core::Logger& log, core::LineWriter& out)
    : m_options(options), m_log(log), m_out(out) {
    if (!options.db_path.empty()) {
        m_db = std::make_unique<store::Database>(options.db_path);
        m_writer = std::make_unique<store::ReadingWriter>(*m_db, options.writer);
    }
    m_held.reserve(1 << 16);
}

Pipeline::~Pipeline() = default;

void Pipeline::reject(const Origin& origin, std::string_view reason) {
    ++m_counters.rejected;
    if (m_writer)
        m_writer->add_stat("rejected_readings", 1);
    if (m_options.strict) {
        commit();
        report_counters();
        throw Error(Exit::bad_input, fmt::format("{}: {}", where(origin), reason));
    }
    m_log.warn("{}: {}", where(origin), reason);
    if (m_options.max_bad_lines && m_counters.rejected > *m_options.max_bad_lines) {
        commit();
        report_counters();
        throw Error(Exit::bad_input, fmt::format("more than {} bad records (--max-bad-lines)",
                                                 *m_options.max_bad_lines));
    }
}

void Pipeline::reading(std::string_view text, const Origin& origin, core::Millis now) {
    ++m_counters.received;
    if (!m_parser.parse(text, m_reading))
        return reject(origin, m_parser.error());
    if (!origin.topic_device.empty() &&
        (m_reading.device != origin.topic_device || m_reading.sensor != origin.topic_sensor))
        return reject(origin, fmt::format("device \"{}\" and sensor \"{}\" do not match the topic",
                                          m_reading.device, m_reading.sensor));
    if (m_writer) {
        if (m_writer->add(m_reading, now) == store::AddResult::duplicate) {
            ++m_counters.duplicates;
            return; // already stored and passed on once
        }
    } else {
        ++m_counters.stored; // nothing to store: counted as accepted
    }
    if (m_options.quiet)
        return;
    if (m_held_count == 0)
        m_held_since = now;
    if (!m_held.empty())
        m_held.push_back('\n');
    record::append_json(m_reading, m_held);
    ++m_held_count;
}

void Pipeline::too_long(const Origin& origin) {
    ++m_counters.received;
    reject(origin,
           fmt::format("longer than {} bytes (--max-line-bytes)", m_options.max_line_bytes));
}

void Pipeline::status(std::string_view device, std::string_view payload, const Origin& origin,
                      core::Millis wall, core::Millis now) {
    if (!record::valid_name(device))
        return reject(origin, "status: device must be 1-64 characters of A-Z a-z 0-9 _ . -");
    if (payload != "online" && payload != "offline")
        return reject(origin, "status: expected online or offline");
    ++m_counters.status;
    if (m_writer)
        m_writer->set_status(device, payload, wall, now);
}

bool Pipeline::pending() const noexcept {
    return m_held_count > 0 || (m_writer && m_writer->pending() > 0);
}

std::optional<core::Millis> Pipeline::deadline() const noexcept {
    if (m_writer)
        return m_writer->deadline();
    if (m_held_count > 0)
        return m_held_since + m_options.writer.batch_ms;
    return std::nullopt;
}

bool Pipeline::due(core::Millis now) const noexcept {
    if (m_writer)
        return m_writer->due(now);
    return m_held_count > 0 && (m_held_count >= m_options.writer.batch_size ||
                                now >= m_held_since + m_options.writer.batch_ms);
}

void Pipeline::commit() {
    if (m_writer) {
        const auto before = m_writer->counters();
        m_writer->commit();
        const auto& after = m_writer->counters();
        m_counters.stored += after.stored - before.stored;
    }
    if (m_held_count > 0) {
        m_held_count = 0;
        m_out.write_line(m_held); // one write(2) for the batch, '\n' appended
        m_held.clear();
    }
    // Retention interleaves with the stream: one small step per commit while behind.
    if (m_writer && m_options.writer.retain_ms > 0)
        m_writer->retain(core::now_millis());
}

bool Pipeline::maintain(core::Millis wall) {
    if (!m_writer)
        return false;
    if (pending())
        commit(); // retention commits the open batch: pass its records on with it
    return m_writer->retain(wall);
}

Counters Pipeline::counters() const noexcept {
    Counters c = m_counters;
    if (m_writer) {
        c.commits = m_writer->counters().commits;
        c.deleted = m_writer->counters().deleted;
    }
    return c;
}

void Pipeline::report_counters() const {
    const Counters c = counters();
    m_log.info("{}", format_counters(c));
    m_log.debug("{} commits, {} old readings deleted", c.commits, c.deleted);
}

} // namespace iots::ingest
