// The node's offline buffer: bounded, oldest dropped first and counted, sent in order once the
// broker is back, the drop count first.
#define BOOST_TEST_MODULE firmware_outbox
#include "firmware_fakes.hpp"
#include "iotsfw/node.hpp"
#include "iotsfw/outbox.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>

using namespace iots::fw;

namespace {
Outgoing item(std::uint64_t seq) {
    Outgoing o;
    o.sample.seq = seq;
    return o;
}
} // namespace

BOOST_AUTO_TEST_CASE(the_ring_keeps_the_newest_in_order_and_counts_the_rest) {
    Outbox box(3);
    for (std::uint64_t s = 1; s <= 7; ++s)
        box.push(item(s));
    BOOST_TEST(box.size() == 3u);
    BOOST_TEST(box.dropped() == 4u); // 1 … 4 went, oldest first
    BOOST_TEST(box.unreported_drops() == 4u);
    std::vector<std::uint64_t> order;
    while (!box.empty()) {
        order.push_back(box.front().sample.seq);
        box.pop();
    }
    BOOST_TEST(order == (std::vector<std::uint64_t>{5, 6, 7}));
    box.drops_reported();
    BOOST_TEST(box.unreported_drops() == 0u);
    BOOST_TEST(box.dropped() == 4u);
    box.pop(); // empty: nothing happens
    box.push(item(8));
    BOOST_TEST(box.front().sample.seq == 8u);
}

// Broker away for 5 samples of 6 readings (30) with room for 20: the 10 oldest are dropped; when
// it is back, one fault record says so, then the 20 go in seq order, nothing else waits.
BOOST_AUTO_TEST_CASE(the_node_buffers_while_offline_and_flushes_after) {
    fwtest::FakeBoard board;
    fwtest::FakeStore flash;
    fwtest::FakeTransport transport;
    board.epoch = 1761410712123;
    NodeConfig config;
    config.device = "esp32-hall";
    config.interval_ms = 1000;
    config.mq2_warmup_ms = 0;
    config.outbox_capacity = 20;
    Node node(config, board, flash, transport);
    node.begin();
    node.loop(); // online: status, subscription, first sample sent
    BOOST_TEST(transport.sent.size() == 1u + 6u);
    BOOST_TEST(transport.sent[0].topic == "iotshield/status/esp32-hall");
    BOOST_TEST(transport.sent[0].payload == "online");
    BOOST_TEST(transport.sent[0].retain);
    BOOST_TEST(node.will_topic() == "iotshield/status/esp32-hall");
    const std::uint64_t last_online_seq = node.sequence().peek() - 1;

    transport.up = false;
    transport.sent.clear();
    for (int i = 0; i < 5; ++i) {
        board.advance(1000);
        node.loop();
    }
    BOOST_TEST(transport.sent.empty());
    BOOST_TEST(node.outbox().size() == 20u);
    BOOST_TEST(node.outbox().dropped() == 10u);

    transport.up = true;
    node.loop(); // a reconnection: online again, drops, then the buffer
    BOOST_REQUIRE(transport.sent.size() == 2u + 20u);
    BOOST_TEST(transport.sent[0].payload == "online");
    BOOST_TEST(transport.sent[1].topic == "iotshield/faults/esp32-hall");
    const auto drop = nlohmann::json::parse(transport.sent[1].payload);
    BOOST_TEST(drop.at("dropped") == 10);
    BOOST_TEST(drop.at("reason") == "offline buffer full: 10 oldest records dropped");
    std::int64_t prev = -1;
    for (std::size_t i = 2; i < transport.sent.size(); ++i) {
        const auto r = nlohmann::json::parse(transport.sent[i].payload);
        const auto seq = r.at("seq").get<std::int64_t>();
        BOOST_TEST(seq > prev);
        prev = seq;
    }
    // The 10 dropped were the oldest: the first sent follows them.
    BOOST_TEST(nlohmann::json::parse(transport.sent[2].payload).at("seq").get<std::uint64_t>() ==
               last_online_seq + 1 + 10);
    BOOST_TEST(node.outbox().empty());
    BOOST_TEST(node.outbox().unreported_drops() == 0u);
    BOOST_TEST(node.stats().connects == 2u);
}

// Taken before NTP synced, sent after: ts is the clock at sending minus the reading's age. Sent
// before: no ts at all.
BOOST_AUTO_TEST_CASE(buffered_readings_get_their_time_back_from_their_age) {
    fwtest::FakeBoard board;
    fwtest::FakeStore flash;
    fwtest::FakeTransport transport;
    transport.up = false;
    NodeConfig config;
    config.interval_ms = 1000;
    config.mq2_warmup_ms = 0;
    Node node(config, board, flash, transport);
    node.begin();
    board.now = 5000;
    node.loop(); // sampled at 5000 ms, no clock, no broker
    board.now = 65000;
    board.epoch = 1761410712123; // synced at 65 s; the sample is 60 s old
    transport.up = true;
    node.loop();
    const auto first =
        std::find_if(transport.sent.begin(), transport.sent.end(), [](const auto& p) {
            return p.payload.find("\"seq\":0") != std::string::npos;
        });
    BOOST_REQUIRE(first != transport.sent.end());
    BOOST_TEST(first->payload.find(R"("ts":"2025-10-25T16:44:12.123Z")") == 1u);

    fwtest::FakeTransport online;
    fwtest::FakeBoard no_clock;
    Node early(config, no_clock, flash, online);
    early.begin();
    early.loop();
    BOOST_REQUIRE(online.sent.size() > 1u);
    BOOST_TEST(online.sent[1].payload.find("\"ts\"") == std::string::npos);
}

// A failed DHT22 read: no temperature or humidity reading, a fault record each, the other
// sensors as usual; the MQ-2 unplugged and the LDR shorted likewise.
BOOST_AUTO_TEST_CASE(failed_reads_are_faults_not_values) {
    fwtest::FakeBoard board;
    fwtest::FakeStore flash;
    fwtest::FakeTransport transport;
    board.climate = {}; // no answer
    board.mq2 = 0;
    board.ldr = 4095;
    flash.dbl[kR0Key] = 10.0;
    NodeConfig config;
    config.mq2_warmup_ms = 0;
    Node node(config, board, flash, transport);
    node.begin();
    node.loop();
    std::vector<std::string> readings, faults;
    for (const auto& p : transport.sent) {
        if (p.topic.rfind("iotshield/sensors/", 0) == 0)
            readings.push_back(nlohmann::json::parse(p.payload).at("sensor"));
        else if (p.topic == "iotshield/faults/esp32-node")
            faults.push_back(nlohmann::json::parse(p.payload).at("sensor"));
    }
    BOOST_TEST(readings == (std::vector<std::string>{"flame", "motion"}));
    BOOST_TEST(faults == (std::vector<std::string>{"temperature", "humidity", "gas", "light"}));
    BOOST_TEST(node.stats().faults == 4u);
    // Faults take no seq: the readings' numbers stay consecutive.
    BOOST_TEST(node.sequence().peek() == 2u);
}

// The MQ-2 warms up before it reads; with no R0 stored and auto-calibration off it says so.
BOOST_AUTO_TEST_CASE(no_gas_reading_during_warm_up_or_without_calibration) {
    fwtest::FakeBoard board;
    fwtest::FakeStore flash;
    fwtest::FakeTransport transport;
    NodeConfig config;
    config.interval_ms = 1000;
    config.mq2_warmup_ms = 60000;
    config.mq2_auto_calibrate = false;
    Node node(config, board, flash, transport);
    node.begin();
    const auto gas_records = [&] {
        int n = 0;
        for (const auto& p : transport.sent)
            n += p.payload.find("\"sensor\":\"gas\"") != std::string::npos ? 1 : 0;
        return n;
    };
    node.loop();
    BOOST_TEST(gas_records() == 0);
    board.advance(60000);
    node.loop();
    BOOST_TEST(gas_records() == 1);
    BOOST_TEST(transport.sent.back().topic != "iotshield/sensors/esp32-node/gas");
    BOOST_TEST(std::any_of(transport.sent.begin(), transport.sent.end(), [](const auto& p) {
        return p.payload.find("mq2: no clean-air R0 stored") != std::string::npos;
    }));
}

// Flame and motion go out the moment they change, not at the next sample.
BOOST_AUTO_TEST_CASE(flame_and_motion_changes_go_out_at_once) {
    fwtest::FakeBoard board;
    fwtest::FakeStore flash;
    fwtest::FakeTransport transport;
    NodeConfig config;
    config.interval_ms = 60000;
    config.mq2_warmup_ms = 0;
    Node node(config, board, flash, transport);
    node.begin();
    node.loop();
    transport.sent.clear();
    board.advance(10);
    board.flame = true;
    node.loop();
    BOOST_REQUIRE(transport.sent.size() == 1u);
    BOOST_TEST(transport.sent[0].topic == "iotshield/sensors/esp32-node/flame");
    BOOST_TEST(transport.sent[0].payload.find("\"value\":1,") != std::string::npos);
    board.pir = true;
    node.loop();
    board.pir = false; // a pulse shorter than the interval
    node.loop();
    BOOST_TEST(transport.sent.size() == 3u);
    board.advance(60000);
    node.loop(); // the sample reports the latched motion
    bool latched = false;
    for (const auto& p : transport.sent)
        if (p.topic == "iotshield/sensors/esp32-node/motion" &&
            p.payload.find("\"value\":1,") != std::string::npos)
            latched = true;
    BOOST_TEST(latched);
}

BOOST_AUTO_TEST_CASE(configs_are_checked) {
    NodeConfig c;
    BOOST_TEST(check_config(c).empty());
    c.device = "bad name";
    BOOST_TEST(check_config(c) == "device: must be 1-64 characters of A-Z a-z 0-9 _ . -");
    c.device = "ok";
    c.prefix = "a/#";
    BOOST_TEST(!check_config(c).empty());
}
