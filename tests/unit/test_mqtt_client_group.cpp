// mqtt::ClientGroup against a real mosquitto on a free loopback port: many members on one network
// thread with descriptors past select()'s 1,024, each publishing on its own connection and
// receiving only its own subscription; an unreachable broker; members reconnecting by themselves.
#define BOOST_TEST_MODULE mqtt_client_group
#include "iotshield/core/error.hpp"
#include "iotshield/mqtt/client_group.hpp"
#include "mqtt_test_broker.hpp"
#include "mqtt_test_inbox.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using iots::mqtt::Client;
using iots::mqtt::ClientGroup;
using iots::mqtt::MemberOptions;
using iots::mqtt::Message;
using iots::test::Inbox;
using iots::test::TestBroker;

namespace {

const iots::core::Logger& test_log() {
    static const iots::core::Logger log("test_mqtt_client_group", iots::core::Level::warning);
    return log;
}

iots::core::BrokerOptions options_for(int port) {
    iots::core::BrokerOptions o;
    o.host = "127.0.0.1";
    o.port = port;
    return o;
}

// Member i: birth "online" retained on s/i, will "offline" on s/i, commands on c/i.
MemberOptions member(std::size_t i) {
    MemberOptions m;
    const std::string n = std::to_string(i);
    m.client_id = "group-test-" + n;
    m.will = iots::mqtt::Will{"s/" + n, "offline", 1, true};
    m.birth = Message{"s/" + n, "online", 1, true};
    m.subscriptions.emplace_back("c/" + n, 1);
    return m;
}

std::size_t open_descriptors() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd"))
        ++n;
    return n;
}

template <typename Pred> bool eventually(Pred pred, int seconds = 20) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (!pred()) {
        if (std::chrono::steady_clock::now() > until)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

} // namespace

BOOST_AUTO_TEST_CASE(members_past_descriptor_1024_publish_and_get_their_own_commands) {
    TestBroker broker;
    const std::size_t count = 400; // 3 descriptors each: 1,200, past FD_SETSIZE
    std::mutex mutex;
    std::vector<std::pair<std::size_t, std::string>> commands;
    ClientGroup group(options_for(broker.port()), test_log());
    for (std::size_t i = 0; i < count; ++i)
        BOOST_TEST_REQUIRE(group.add(member(i)) == i);
    group.on_message([&](std::size_t i, const Message& m) {
        std::lock_guard lock(mutex);
        commands.emplace_back(i, m.topic + "=" + m.payload);
    });
    // The observers are mqtt::Clients, whose libmosquitto loop is select()-based: they connect
    // first, while their descriptors are still below 1,024.
    Inbox inbox;
    Client sub(options_for(broker.port()), test_log());
    sub.on_message(inbox.handler());
    sub.connect();
    sub.subscribe("s/#", 1);
    sub.subscribe("d/#", 1);
    Client pub(options_for(broker.port()), test_log());
    pub.connect();

    group.connect(30000);
    BOOST_TEST_REQUIRE(open_descriptors() > 1024);
    for (std::size_t i = 0; i < count; ++i)
        BOOST_TEST_REQUIRE(group.connected(i));

    // Every member's birth arrives once; every member's publish arrives once, on its own topic.
    for (std::size_t i = 0; i < count; ++i)
        group.publish(i, "d/" + std::to_string(i), "reading " + std::to_string(i), 1);
    BOOST_TEST(group.wait_published(20000));
    BOOST_TEST(group.unacknowledged() == 0U);
    BOOST_TEST_REQUIRE(inbox.wait_for(2 * count));
    std::map<std::string, std::string> got;
    for (const Message& m : inbox.messages())
        BOOST_TEST(got.emplace(m.topic, m.payload).second); // no topic twice
    for (std::size_t i = 0; i < count; ++i) {
        BOOST_TEST(got["s/" + std::to_string(i)] == "online");
        BOOST_TEST(got["d/" + std::to_string(i)] == "reading " + std::to_string(i));
    }

    // A command reaches the member subscribed to it, and only that one.
    for (std::size_t i : {std::size_t{0}, std::size_t{199}, count - 1})
        pub.publish("c/" + std::to_string(i), "fan on", 1);
    BOOST_TEST(pub.wait_published(20000));
    BOOST_TEST_REQUIRE(eventually([&] {
        std::lock_guard lock(mutex);
        return commands.size() >= 3;
    }));
    std::lock_guard lock(mutex);
    BOOST_TEST_REQUIRE(commands.size() == 3U);
    for (const auto& [i, text] : commands)
        BOOST_TEST(text == "c/" + std::to_string(i) + "=fan on");
}

BOOST_AUTO_TEST_CASE(unreachable_broker_is_unavailable_after_the_patience) {
    ClientGroup group(options_for(iots::test::free_port()), test_log());
    for (std::size_t i = 0; i < 50; ++i)
        group.add(member(i));
    try {
        group.connect(500);
        BOOST_FAIL("connect() returned without a broker");
    } catch (const iots::Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(iots::Exit::unavailable));
        BOOST_TEST(std::string(e.what()).find("after 0.5 s") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(members_reconnect_after_a_broker_restart_and_publish_again) {
    TestBroker broker;
    const std::size_t count = 20;
    ClientGroup group(options_for(broker.port()), test_log());
    for (std::size_t i = 0; i < count; ++i)
        group.add(member(i));
    group.connect(20000);
    broker.stop();
    BOOST_TEST_REQUIRE(eventually([&] { return !group.connected(0); }));
    broker.start();
    BOOST_TEST_REQUIRE(eventually([&] {
        for (std::size_t i = 0; i < count; ++i)
            if (!group.connected(i))
                return false;
        return true;
    }));
    BOOST_TEST(group.counters().reconnects == count);

    Inbox inbox;
    Client sub(options_for(broker.port()), test_log());
    sub.on_message(inbox.handler());
    sub.connect();
    sub.subscribe("d/#", 1);
    for (std::size_t i = 0; i < count; ++i)
        group.publish(i, "d/" + std::to_string(i), "again", 1);
    BOOST_TEST(group.wait_published(20000));
    BOOST_TEST(inbox.wait_for(count));
}
