// iots-fw-host: the ESP32 node's core (firmware/core) on the host, for tests only. A fake board
// (sensor values from options, relays logged, the host's clocks, a key=value file as flash) and a
// real libmosquitto connection (iots::mqtt::Client) as the transport.
//
//   iots-fw-host -p PORT --device NAME --state FILE [--interval MS] [--duration MS]
//                [--outbox N] [--ntp-after MS|never] [--dht-fail-every N] [--warmup MS]
//
// Runs until --duration or SIGINT/SIGTERM, then prints its counters as one JSON line on stdout.
#include "iotsfw/node.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/mqtt/client.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using namespace iots;

// Flash: a key=value text file, rewritten on every put (and counted, as flash writes are).
class FileStore final : public fw::Store {
public:
    explicit FileStore(std::string path) : m_path(std::move(path)) {
        std::ifstream in(m_path);
        std::string line;
        while (std::getline(in, line))
            if (const auto eq = line.find('='); eq != std::string::npos)
                m_values[line.substr(0, eq)] = line.substr(eq + 1);
    }
    std::optional<std::uint64_t> get_u64(const char* key) override {
        const auto it = m_values.find(key);
        if (it == m_values.end())
            return std::nullopt;
        return std::strtoull(it->second.c_str(), nullptr, 10);
    }
    bool put_u64(const char* key, std::uint64_t v) override { return put(key, std::to_string(v)); }
    std::optional<double> get_double(const char* key) override {
        const auto it = m_values.find(key);
        if (it == m_values.end())
            return std::nullopt;
        return std::strtod(it->second.c_str(), nullptr);
    }
    bool put_double(const char* key, double v) override {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.17g", v);
        return put(key, buf);
    }

private:
    bool put(const char* key, const std::string& v) {
        m_values[key] = v;
        std::ofstream out(m_path, std::ios::trunc);
        for (const auto& [k, value] : m_values)
            out << k << '=' << value << '\n';
        return static_cast<bool>(out.flush());
    }
    std::string m_path;
    std::map<std::string, std::string> m_values;
};

struct Options {
    int port = 1883;
    std::string device = "esp32-fw", state;
    std::uint32_t interval_ms = 1000, warmup_ms = 0;
    long duration_ms = -1;
    std::size_t outbox = 200;
    long ntp_after_ms = 0; // -1: never
    unsigned dht_fail_every = 0;
};

// Sensor values fixed by the test: 21.5 °C, 40 %, the MQ-2 at its clean-air voltage (so with
// R0 from auto-calibration the gas reading is the curve's value at Rs/R0 = 9.83), a lamp-lit LDR.
class FakeBoard final : public fw::Hardware {
public:
    FakeBoard(const Options& o, const core::Logger& log)
        : m_options(o), m_log(log), m_start(std::chrono::steady_clock::now()) {}
    fw::Climate read_dht22() override {
        ++m_dht_reads;
        if (m_options.dht_fail_every > 0 && m_dht_reads % m_options.dht_fail_every == 0)
            return {};
        return {true, 21.5, 40.0};
    }
    std::uint16_t read_mq2_raw() override { return 1200; }
    std::uint16_t read_ldr_raw() override { return 2048; }
    bool read_flame() override { return false; }
    bool read_pir() override { return false; }
    void set_relay(fw::Actuator a, bool on) override {
        static const char* const kNames[] = {"fan", "valve", "buzzer", "relay"};
        m_log.info("relay {} {}", kNames[static_cast<int>(a)], on ? "on" : "off");
    }
    std::uint32_t millis() override { return static_cast<std::uint32_t>(elapsed()); }
    std::optional<std::int64_t> epoch_ms() override {
        if (m_options.ntp_after_ms < 0 || elapsed() < m_options.ntp_after_ms)
            return std::nullopt;
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
    void log(std::string_view line) override { m_log.info("{}", line); }

    [[nodiscard]] long elapsed() const {
        return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - m_start)
                                     .count());
    }

private:
    const Options& m_options;
    const core::Logger& m_log;
    std::chrono::steady_clock::time_point m_start;
    unsigned m_dht_reads = 0;
};

// PubSubClient's contract: a publish while disconnected is refused, not queued (the node keeps it).
class MqttTransport final : public fw::Transport {
public:
    explicit MqttTransport(mqtt::Client& client) : m_client(client) {}
    bool connected() override { return m_client.connected(); }
    bool publish(std::string_view topic, std::string_view payload, bool retain) override {
        if (!m_client.connected())
            return false;
        m_client.publish(topic, payload, 1, retain);
        return true;
    }
    bool subscribe(std::string_view filter) override {
        if (!m_subscribed) { // the client renews it after every reconnect
            m_client.subscribe_nowait(std::string(filter), 1);
            m_subscribed = true;
        }
        return true;
    }

private:
    mqtt::Client& m_client;
    bool m_subscribed = false;
};

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc)
            throw std::runtime_error("option " + a + " needs a value");
        const std::string v = argv[++i];
        if (a == "-p")
            o.port = std::stoi(v);
        else if (a == "--device")
            o.device = v;
        else if (a == "--state")
            o.state = v;
        else if (a == "--interval")
            o.interval_ms = static_cast<std::uint32_t>(std::stoul(v));
        else if (a == "--warmup")
            o.warmup_ms = static_cast<std::uint32_t>(std::stoul(v));
        else if (a == "--duration")
            o.duration_ms = std::stol(v);
        else if (a == "--outbox")
            o.outbox = std::stoul(v);
        else if (a == "--ntp-after")
            o.ntp_after_ms = v == "never" ? -1 : std::stol(v);
        else if (a == "--dht-fail-every")
            o.dht_fail_every = static_cast<unsigned>(std::stoul(v));
        else
            throw std::runtime_error("unknown option " + a);
    }
    if (o.state.empty())
        throw std::runtime_error("--state FILE is required");
    return o;
}

int run(int argc, char** argv) {
    const core::Logger log("iots-fw-host");
    const Options o = parse(argc, argv);
    core::install_signal_handlers();

    fw::NodeConfig config;
    config.device = o.device;
    config.interval_ms = o.interval_ms;
    config.mq2_warmup_ms = o.warmup_ms;
    config.outbox_capacity = o.outbox;
    if (const std::string problem = fw::check_config(config); !problem.empty())
        throw std::runtime_error(problem);

    FakeBoard board(o, log);
    FileStore store(o.state);
    core::BrokerOptions broker;
    broker.host = "127.0.0.1";
    broker.port = o.port;
    broker.client_id = o.device;
    broker.keepalive = 5;
    mqtt::Client client(broker, log);
    MqttTransport transport(client);
    fw::Node node(config, board, store, transport);
    client.set_will({node.will_topic(), fw::Node::kWillPayload, 1, true});

    std::mutex mutex;
    std::deque<mqtt::Message> inbox;
    client.on_message([&](const mqtt::Message& m) {
        const std::lock_guard lock(mutex);
        inbox.push_back(m);
    });
    node.begin();
    client.connect(30000);

    while (!core::stop_requested() && (o.duration_ms < 0 || board.elapsed() < o.duration_ms)) {
        std::deque<mqtt::Message> messages;
        {
            const std::lock_guard lock(mutex);
            messages.swap(inbox);
        }
        for (const auto& m : messages)
            node.on_message(m.topic, m.payload);
        node.loop();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // A board never stops cleanly; this one says so itself, as its will would have.
    transport.publish(node.will_topic(), fw::Node::kWillPayload, true);
    client.wait_published(5000);
    const auto& s = node.stats();
    std::printf("{\"readings\":%llu,\"faults\":%llu,\"published\":%llu,\"buffered\":%zu,"
                "\"dropped\":%llu,\"commands\":%llu,\"failed_commands\":%llu,\"seq_next\":%llu,"
                "\"boots\":%llu,\"flash_writes\":%llu}\n",
                static_cast<unsigned long long>(s.readings),
                static_cast<unsigned long long>(s.faults),
                static_cast<unsigned long long>(s.published), node.outbox().size(),
                static_cast<unsigned long long>(node.outbox().dropped()),
                static_cast<unsigned long long>(s.commands),
                static_cast<unsigned long long>(s.failed_commands),
                static_cast<unsigned long long>(node.sequence().peek()),
                static_cast<unsigned long long>(node.sequence().boots()),
                static_cast<unsigned long long>(node.sequence().flash_writes()));
    return std::fflush(stdout) == 0 ? 0 : 74;
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "iots-fw-host: error: %s\n", e.what());
        return 1;
    }
}
