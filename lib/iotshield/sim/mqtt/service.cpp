#include "iotshield/sim/mqtt/service.hpp"

#include "iotshield/core/error.hpp"
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
} // namespace

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
