#include "iotshield/sim/mqtt/service.hpp"

#include "iotshield/core/duration.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/privacy/random.hpp"
#include "iotshield/sim/mqtt/publisher.hpp"
#include "iotshield/sim/simulator.hpp"

namespace iots::sim {

namespace {
class StdoutOutput : public Output {
public:
    explicit StdoutOutput(core::LineWriter& out) : m_out(out) {}
    void reading(const record::Reading& /*r*/, std::string_view json) override {
        m_out.write_line(json);
    }
    void flush() override { m_out.flush(); }

private:
    core::LineWriter& m_out;
};
core::Millis duration_of(const std::string& option, const std::string& text) {
    const auto ms = core::parse_duration(text);
    if (!ms)
        throw Error(Exit::usage,
                    option + ": '" + text + "' is not a duration (like 500ms, 5s, 2h, 14d)");
    return *ms;
}

core::Millis time_of(const std::string& option, const std::string& text) {
    const auto t = core::parse_rfc3339(text);
    if (!t)
        throw Error(Exit::usage, option + ": '" + text + "' is not an RFC 3339 time");
    return *t;
}
} // namespace

void resolve(const Arguments& a, ServiceOptions& o) {
    Config& c = o.config;
    RunLimits& limits = o.limits;
    c.devices = make_devices(a.devices, a.names, a.rooms);
    c.interval = duration_of("--interval", a.interval);
    c.labels = a.labels;
    for (const auto& text : a.incidents)
        c.incidents.push_back(parse_incident(text));
    if (!a.rate.empty())
        c.incidents_per_day = parse_rate(a.rate);
    c.start = a.realtime ? core::now_millis() : kDefaultStart;
    if (!a.start.empty())
        c.start = time_of("--start", a.start);
    if (!a.from.empty()) {
        limits.from = time_of("--from", a.from);
        if (*limits.from < c.start)
            throw Error(Exit::usage, "--from: '" + a.from + "' is before the start");
    }
    if (o.actuators && !o.broker.enabled())
        throw Error(Exit::usage, "--actuators needs a broker (-h HOST)");
    limits.realtime = a.realtime;
    if (a.count > 0)
        limits.count = a.count;
    else if (!a.duration.empty())
        limits.end = c.start + duration_of("--duration", a.duration);
    else if (!a.realtime)
        limits.end = c.start + 86400000; // a day; real time runs until stopped
    if (limits.end)
        for (std::size_t i = 0; i < c.incidents.size(); ++i)
            if (c.start + c.incidents[i].offset >= *limits.end)
                throw Error(Exit::usage, "--incident " + a.incidents[i] +
                                             ": starts after the run ends (--duration " +
                                             (a.duration.empty() ? "1d" : a.duration) + ")");
    if (!a.occupancy.empty() && !limits.end)
        throw Error(Exit::usage, "--occupancy needs a run with an end (--duration)");
    o.occupancy = a.occupancy;
    if (a.dp) {
        privacy::EdgeOptions e;
        e.mech = a.dp_mech == "gaussian" ? privacy::Mech::gaussian : privacy::Mech::laplace;
        e.day_epsilon = a.dp_epsilon;
        e.day_delta = a.dp_delta;
        e.readings_per_day =
            static_cast<std::int64_t>(c.devices.size() * privacy::kEdgeKinds.size()) *
            privacy::readings_per_day(c.interval);
        for (const auto& text : a.dp_clamps)
            e.clamps.push_back(privacy::parse_edge_clamp(text));
        o.edge = e;
    }
}

int run(const ServiceOptions& o, const core::Logger& log, core::LineWriter& out) {
    std::optional<privacy::EdgeNoise> noise;
    if (o.edge)
        noise.emplace(*o.edge);
    Simulator simulator(o.config);
    if (!o.occupancy.empty() && o.limits.end)
        write_occupancy(o.occupancy, simulator, o.limits.from.value_or(o.config.start),
                        *o.limits.end);
    privacy::SystemRandom random;
    EdgeNoising edge;
    EdgeNoising* noising = nullptr;
    if (noise) {
        edge.noise = &*noise;
        edge.rng = &random;
        noising = &edge;
        log.info("{}", describe_edge_plan(*noise, o.config.devices.size(), o.config.interval));
    }
    if (!o.broker.enabled()) {
        // Flushed per line when paced; a backfill is written in 64 KiB blocks (STYLE, Pipelines 1).
        out.set_flush_each_line(o.limits.realtime);
        StdoutOutput stdout_output(out);
        run(simulator, stdout_output, o.limits, nullptr, log, noising);
        if (noising != nullptr)
            log.info("{}", describe_edge_spent(edge));
        return 0;
    }
    CommandQueue queue;
    CommandQueue* commands = o.actuators ? &queue : nullptr;
    MqttOutput mqtt(o.broker, log, o.config.devices, commands);
    mqtt.connect(10000);
    const auto stats = run(simulator, mqtt, o.limits, commands, log, noising);
    const bool delivered = mqtt.close(10000);
    if (noising != nullptr)
        log.info("{}", describe_edge_spent(edge));
    log.info("published {} readings, answered {} commands", stats.readings, stats.commands);
    return delivered ? 0 : static_cast<int>(Exit::unavailable);
}

} // namespace iots::sim
