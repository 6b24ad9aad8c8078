#include "iotsfw/node.hpp"

#include "iotsfw/topics.hpp"

#include <cstdarg>
#include <cstdio>
#include <utility>

namespace iots::fw {

std::string check_config(const NodeConfig& c) {
    if (!valid_name(c.device))
        return "device: must be 1-64 characters of A-Z a-z 0-9 _ . -";
    if (c.prefix.empty() || c.prefix.find_first_of("+#") != std::string::npos)
        return "prefix: must be a topic without wildcards";
    if (c.interval_ms == 0)
        return "interval_ms: must be positive";
    if (c.outbox_capacity == 0)
        return "outbox_capacity: must be positive";
    if (c.mq2.rl_kohm <= 0 || c.mq2.divider_k <= 0 || c.ldr.r_fixed_kohm <= 0 ||
        c.ldr.r10_kohm <= 0 || c.ldr.gamma <= 0)
        return "mq2/ldr: resistances, divider and gamma must be positive";
    return {};
}

Node::Node(NodeConfig config, Hardware& hw, Store& store, Transport& transport)
    : m_config(std::move(config)), m_hw(hw), m_store(store), m_transport(transport),
      m_seq(store, m_config.seq_block), m_outbox(m_config.outbox_capacity),
      m_status_topic(status_topic(m_config.prefix, m_config.device)),
      m_control_topic(fw::control_topic(m_config.prefix, m_config.device)),
      m_ack_topic(ack_topic(m_config.prefix, m_config.device)),
      m_fault_topic(fault_topic(m_config.prefix, m_config.device)) {}

void Node::logf(const char* fmt, ...) {
    char buf[200];
    va_list args;
    va_start(args, fmt);
    const int n = std::vsnprintf(buf, sizeof buf, fmt, args);
    va_end(args);
    if (n > 0)
        m_hw.log(std::string_view(buf, static_cast<std::size_t>(n) < sizeof buf
                                           ? static_cast<std::size_t>(n)
                                           : sizeof buf - 1));
}

void Node::begin() {
    m_boot_ms = m_hw.millis();
    for (int a = 0; a < kActuatorCount; ++a) // a reboot leaves nothing running
        m_hw.set_relay(static_cast<Actuator>(a), false);
    if (!m_seq.begin())
        m_hw.log("flash: could not store the seq high-water mark");
    m_r0 = m_store.get_double(kR0Key).value_or(0);
    logf("boot %llu, seq from %llu, mq2 R0 %.2f kohm",
         static_cast<unsigned long long>(m_seq.boots()),
         static_cast<unsigned long long>(m_seq.peek()), m_r0);
    m_flame = m_hw.read_flame();
    m_motion = m_hw.read_pir();
}

void Node::reading(Kind k, double value, std::uint32_t now, bool over_range) {
    Outgoing o;
    o.type = Outgoing::Type::reading;
    o.sample.kind = k;
    o.sample.value = value;
    o.sample.seq = m_seq.next();
    o.sample.over_range = over_range;
    if (m_noise != nullptr && m_noise->apply(k, o.sample.value, *m_rng))
        o.sample.privacy = &m_noise->note(k);
    o.taken_ms = now;
    o.ts = m_hw.epoch_ms();
    ++m_stats.readings;
    m_outbox.push(o);
}

void Node::fault(Kind k, Fault f, std::uint32_t now) {
    Outgoing o;
    o.type = Outgoing::Type::fault;
    o.sample.kind = k;
    o.fault = f;
    o.taken_ms = now;
    o.ts = m_hw.epoch_ms();
    ++m_stats.faults;
    m_outbox.push(o);
}

bool Node::calibrate_mq2() {
    const int n = m_config.mq2_calibration_samples > 0 ? m_config.mq2_calibration_samples : 1;
    double sum = 0;
    for (int i = 0; i < n; ++i) {
        const double rs = mq2_rs_kohm(m_hw.read_mq2_raw(), m_config.mq2);
        if (rs <= 0) {
            m_hw.log("mq2: calibration failed: ADC at 0 or full scale");
            return false;
        }
        sum += rs;
    }
    m_r0 = mq2_r0_from_clean_air(sum / n);
    if (!m_store.put_double(kR0Key, m_r0))
        m_hw.log("flash: could not store mq2 R0");
    logf("mq2: calibrated in clean air, R0 %.2f kohm", m_r0);
    return true;
}

void Node::read_mq2(std::uint32_t now) {
    if (now - m_boot_ms < m_config.mq2_warmup_ms)
        return; // warming up: no reading, not a fault
    if (m_r0 <= 0 && !(m_config.mq2_auto_calibrate && calibrate_mq2()))
        return fault(Kind::gas, Fault::mq2_uncalibrated, now);
    const Mq2Reading g = mq2_read(m_hw.read_mq2_raw(), m_r0, m_config.mq2);
    if (g.status == Mq2Reading::Status::open)
        return fault(Kind::gas, Fault::mq2_open, now);
    if (g.status == Mq2Reading::Status::saturated)
        return fault(Kind::gas, Fault::mq2_saturated, now);
    reading(Kind::gas, g.ppm, now, g.over_range);
}

void Node::sample(std::uint32_t now) {
    const Climate c = m_hw.read_dht22();
    if (c.ok) {
        reading(Kind::temperature, c.temperature_c, now);
        reading(Kind::humidity, c.humidity_pct, now);
    } else {
        fault(Kind::temperature, Fault::dht_no_answer, now);
        fault(Kind::humidity, Fault::dht_no_answer, now);
    }
    read_mq2(now);
    reading(Kind::flame, m_flame ? 1 : 0, now);
    reading(Kind::motion, m_motion_latch ? 1 : 0, now);
    m_motion_latch = m_motion;
    const double lux = ldr_lux(m_hw.read_ldr_raw(), m_config.ldr);
    if (lux < 0)
        fault(Kind::light, Fault::ldr_saturated, now);
    else
        reading(Kind::light, lux, now);
}

void Node::loop() {
    const std::uint32_t now = m_hw.millis();
    // Flame and motion: a change goes out at once (the safety and intrusion signals); motion is
    // also latched, so a short pulse between two samples still reads 1 at the next.
    if (const bool flame = m_hw.read_flame(); flame != m_flame) {
        m_flame = flame;
        reading(Kind::flame, flame ? 1 : 0, now);
    }
    if (const bool motion = m_hw.read_pir(); motion != m_motion) {
        m_motion = motion;
        m_motion_latch = m_motion_latch || motion;
        if (m_noise == nullptr)
            reading(Kind::motion, motion ? 1 : 0, now);
    }
    if (!m_sampled || now - m_last_sample >= m_config.interval_ms) {
        m_sampled = true;
        m_last_sample = now;
        sample(now);
    }
    const bool connected = m_transport.connected();
    if (connected && !m_connected) {
        ++m_stats.connects;
        if (!m_transport.publish(m_status_topic, "online", true) ||
            !m_transport.subscribe(m_control_topic)) {
            m_hw.log("mqtt: could not announce online or subscribe; retrying");
            return; // m_connected stays false: tried again next loop
        }
        logf("mqtt: online, %u buffered, %llu dropped", static_cast<unsigned>(m_outbox.size()),
             static_cast<unsigned long long>(m_outbox.unreported_drops()));
    }
    m_connected = connected;
    if (connected)
        flush();
}

void Node::flush() {
    const std::optional<std::int64_t> now_ts = m_hw.epoch_ms();
    const std::uint32_t now = m_hw.millis();
    if (const std::uint64_t drops = m_outbox.unreported_drops(); drops > 0) {
        if (!m_transport.publish(m_fault_topic, dropped_json(m_config.device, drops, now_ts),
                                 false))
            return;
        ++m_stats.published;
        m_outbox.drops_reported();
    }
    while (!m_outbox.empty()) {
        const Outgoing& o = m_outbox.front();
        // Taken before the clock was set and sent after: its time is now minus its age.
        std::optional<std::int64_t> ts = o.ts;
        if (!ts && now_ts)
            ts = *now_ts - static_cast<std::int64_t>(now - o.taken_ms);
        const bool sent =
            o.type == Outgoing::Type::reading
                ? m_transport.publish(
                      sensor_topic(m_config.prefix, m_config.device, kind_info(o.sample.kind).name),
                      reading_json(m_config.device, o.sample, ts), false)
                : m_transport.publish(m_fault_topic,
                                      fault_json(m_config.device, o.sample.kind, o.fault, ts),
                                      false);
        if (!sent)
            return;
        ++m_stats.published;
        m_outbox.pop();
    }
}

void Node::on_message(std::string_view topic, std::string_view payload) {
    if (topic != m_control_topic)
        return;
    std::string error;
    const std::optional<Command> c = parse_command(payload, m_config.device, error);
    if (!c) {
        ++m_stats.ignored_commands;
        logf("command ignored: %s", error.c_str());
        return;
    }
    std::string failure = c->problem;
    if (failure.empty()) {
        const Actuation a = plan_actuation(c->actuator, c->action);
        failure = a.failure;
        if (failure.empty())
            m_hw.set_relay(a.actuator, a.on);
    }
    ++m_stats.commands;
    if (!failure.empty()) {
        ++m_stats.failed_commands;
        logf("command %s failed: %s", printable(c->id_json).c_str(), printable(failure).c_str());
    } else {
        logf("command %s: %s %s: done", printable(c->id_json).c_str(),
             printable(c->actuator).c_str(), printable(c->action).c_str());
    }
    if (!m_transport.publish(m_ack_topic, ack_json(*c, m_hw.epoch_ms(), failure), false))
        m_hw.log("mqtt: the ack was not sent (disconnected)");
}

} // namespace iots::fw
