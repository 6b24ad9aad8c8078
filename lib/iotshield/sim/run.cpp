#include "iotshield/sim/run.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/record/command.hpp"
#include "iotshield/record/safety.hpp"
#include "iotshield/record/serialize.hpp"

#include <time.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace iots::sim {

void CommandQueue::push(std::string device, std::string payload) {
    {
        const std::lock_guard lock(m_mutex);
        m_items.push_back({std::move(device), std::move(payload)});
    }
    m_cv.notify_one();
}

void CommandQueue::wait_until(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(m_mutex);
    m_cv.wait_until(lock, deadline, [&] { return !m_items.empty(); });
}

std::vector<CommandQueue::Item> CommandQueue::take() {
    const std::lock_guard lock(m_mutex);
    std::vector<Item> items(std::make_move_iterator(m_items.begin()),
                            std::make_move_iterator(m_items.end()));
    m_items.clear();
    return items;
}

namespace {

void apply_commands(Simulator& sim, Output& out, CommandQueue& queue, RunStats& stats,
                    const core::Logger& log) {
    for (const auto& item : queue.take()) {
        std::string error;
        const auto c = record::parse_command(item.payload, item.device, error);
        if (!c) {
            log.warn("{}: command ignored: {}", item.device, error);
            continue;
        }
        const std::string failure =
            c->problem.empty() ? sim.actuate(c->device, c->actuator, c->action) : c->problem;
        ++stats.commands;
        if (!failure.empty()) {
            ++stats.failed_commands;
            log.warn("{}: command {} failed: {}", c->device, c->id_json, failure);
        } else {
            log.debug("{}: {} {}: done", c->device, c->actuator, c->action);
        }
        // The node answers at its own clock: the simulated time it has reached.
        out.ack(c->device,
                record::ack_json(*c, std::max(sim.last_ts(), sim.config().start), failure));
    }
}

// Sleeps up to ms, returning early on a signal (no SA_RESTART) or a queued command.
void pause(core::Millis ms, CommandQueue* commands) {
    ms = std::clamp<core::Millis>(ms, 0, 100);
    if (commands != nullptr) {
        commands->wait_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(ms));
        return;
    }
    timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1000000)};
    ::nanosleep(&ts, nullptr);
}

} // namespace

std::string describe_edge_plan(const privacy::EdgeNoise& noise, std::size_t devices,
                               core::Millis interval) {
    const auto& o = noise.options();
    std::string cost = fmt::format("epsilon {:g}", o.day_epsilon);
    std::string each = fmt::format("{:.3g}", noise.reading_epsilon());
    if (o.mech == privacy::Mech::gaussian) {
        cost += fmt::format(", delta {:g}", o.day_delta);
        each += fmt::format(", delta {:.3g}", noise.reading_delta());
    }
    return fmt::format(
        "edge noise: {} (motion: randomized response), {} a day for the home, split over the {} "
        "readings its {} node(s) send a day on {} sensors at one per {} ms: {} each; gas, flame "
        "and temperatures at or above {:g} C are sent exact, outside the guarantee",
        privacy::to_string(o.mech), cost, o.readings_per_day, devices, privacy::kEdgeKinds.size(),
        interval, each, record::kHeatDangerC);
}

std::string describe_edge_spent(const EdgeNoising& edge) {
    const double eps = edge.noise->reading_epsilon();
    return fmt::format("edge noise: {} readings noised in {} UTC day(s), {} safety readings sent "
                       "exact: epsilon {:.6g} spent in all, at most {:.6g} in one day (budget {:g} "
                       "a day)",
                       edge.noised, edge.days, edge.exact, static_cast<double>(edge.noised) * eps,
                       static_cast<double>(edge.most_in_a_day) * eps,
                       edge.noise->options().day_epsilon);
}

void write_occupancy(const std::string& path, const Simulator& sim, core::Millis from,
                     core::Millis to) {
    std::string text;
    for (const auto& [ts, p] : sim.presence_changes(from, to, 60000))
        text += fmt::format(R"({{"kind":"occupancy","ts":"{}","presence":"{}"}})"
                            "\n",
                            core::format_rfc3339(ts), presence_name(p));
    std::FILE* f = std::fopen(path.c_str(), "w");
    bool ok = f != nullptr && std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (f != nullptr && std::fclose(f) != 0)
        ok = false;
    if (!ok)
        throw Error(Exit::io_error, "--occupancy " + path + ": " + std::strerror(errno));
}

namespace {
// Noises a copy of r, and counts it in its UTC day.
const record::Reading& noised(const record::Reading& r, EdgeNoising& edge,
                              record::Reading& scratch) {
    scratch = r;
    if (!edge.noise->apply(scratch, *edge.rng)) {
        ++edge.exact;
        return scratch;
    }
    ++edge.noised;
    const std::int64_t day = r.ts >= 0 ? r.ts / 86400000 : (r.ts + 1) / 86400000 - 1;
    if (edge.days == 0 || day != edge.day) {
        ++edge.days;
        edge.day = day;
        edge.in_day = 0;
    }
    edge.most_in_a_day = std::max(edge.most_in_a_day, ++edge.in_day);
    return scratch;
}
} // namespace

RunStats run(Simulator& sim, Output& out, const RunLimits& limits, CommandQueue* commands,
             const core::Logger& log, EdgeNoising* edge) {
    RunStats stats;
    record::Reading scratch;
    std::string json;
    json.reserve(256);
    const auto counters = [&] {
        log.info("readings {}, commands {} ({} failed)", stats.readings, stats.commands,
                 stats.failed_commands);
    };
    while (!core::stop_requested()) {
        const auto& readings = sim.step();
        if (readings.empty() && limits.end && sim.last_ts() >= *limits.end)
            break;
        for (const record::Reading* r : readings) {
            if ((limits.end && r->ts >= *limits.end) ||
                (limits.count && stats.readings >= *limits.count)) {
                out.flush();
                return stats;
            }
            if (limits.from && r->ts < *limits.from)
                continue;
            while (limits.realtime && !core::stop_requested()) {
                if (commands != nullptr)
                    apply_commands(sim, out, *commands, stats, log);
                const core::Millis wait = r->ts - core::now_millis();
                if (wait <= 0)
                    break;
                out.flush();
                pause(wait, commands);
            }
            if (core::stop_requested())
                break;
            const record::Reading& sent = edge != nullptr ? noised(*r, *edge, scratch) : *r;
            json.clear();
            record::append_json(sent, json);
            out.reading(sent, json);
            ++stats.readings;
        }
        if (commands != nullptr)
            apply_commands(sim, out, *commands, stats, log);
        if (core::take_counters_request())
            counters();
        if (limits.count && stats.readings >= *limits.count)
            break;
    }
    out.flush();
    return stats;
}

} // namespace iots::sim
