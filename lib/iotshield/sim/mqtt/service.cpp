#include "iotshield/sim/mqtt/service.hpp"

#include "iotshield/core/error.hpp"
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
    Simulator simulator(o.config);
    if (!o.broker.enabled()) {
        // Flushed per line when paced; a backfill is written in 64 KiB blocks (STYLE, Pipelines 1).
        out.set_flush_each_line(o.limits.realtime);
        StdoutOutput stdout_output(out);
        run(simulator, stdout_output, o.limits, nullptr, log);
        return 0;
    }
    CommandQueue queue;
    CommandQueue* commands = o.actuators ? &queue : nullptr;
    MqttOutput mqtt(o.broker, log, o.config.devices, commands);
    mqtt.connect(10000);
    const auto stats = run(simulator, mqtt, o.limits, commands, log);
    const bool delivered = mqtt.close(10000);
    log.info("published {} readings, answered {} commands", stats.readings, stats.commands);
    return delivered ? 0 : static_cast<int>(Exit::unavailable);
}

} // namespace iots::sim
