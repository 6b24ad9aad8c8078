// mqtt::Client against a real mosquitto on a free loopback port: delivery at each QoS, retained
// messages and the last will, persistent sessions, reconnection, shared subscriptions and
// back-pressure.
#define BOOST_TEST_MODULE mqtt_client
#include "iotshield/core/error.hpp"
#include "iotshield/mqtt/client.hpp"
#include "mqtt_test_broker.hpp"
#include "mqtt_test_inbox.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>

using iots::mqtt::Client;
using iots::mqtt::Message;
using iots::test::Inbox;
using iots::test::TestBroker;

namespace {

const iots::core::Logger& test_log() {
    static const iots::core::Logger log("test_mqtt_client", iots::core::Level::warning);
    return log;
}

iots::core::BrokerOptions options_for(const TestBroker& broker, const std::string& id = {}) {
    iots::core::BrokerOptions o;
    o.host = "127.0.0.1";
    o.port = broker.port();
    o.client_id = id;
    return o;
}

// Waits for `pred` with a generous deadline; the test asserts on the state afterwards.
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

BOOST_AUTO_TEST_CASE(publish_subscribe_round_trip_at_qos_0_1_2) {
    TestBroker broker;
    Inbox inbox;
    Client sub(options_for(broker), test_log());
    sub.on_message(inbox.handler());
    sub.connect();
    sub.subscribe("t/#", 2);
    BOOST_TEST(sub.connected());

    Client pub(options_for(broker), test_log());
    pub.connect();
    const int per_qos = 20;
    for (int qos = 0; qos <= 2; ++qos)
        for (int i = 0; i < per_qos; ++i)
            pub.publish("t/q" + std::to_string(qos), std::to_string(qos) + ":" + std::to_string(i),
                        qos);
    BOOST_TEST(pub.wait_published(20000));
    BOOST_TEST_REQUIRE(inbox.wait_for(3 * per_qos));

    // Per publisher and topic MQTT keeps order; each message arrives at the QoS it was sent with
    // (the subscription grants 2, so min(pub, sub) = pub).
    std::vector<int> next(3, 0);
    for (const Message& m : inbox.messages()) {
        int qos = m.topic.back() - '0';
        BOOST_TEST_REQUIRE((qos >= 0 && qos <= 2));
        BOOST_TEST(m.qos == qos);
        BOOST_TEST(!m.retain);
        BOOST_TEST(m.payload == std::to_string(qos) + ":" +
                                    std::to_string(next[static_cast<std::size_t>(qos)]++));
    }
    BOOST_TEST(next == std::vector<int>({per_qos, per_qos, per_qos}),
               boost::test_tools::per_element());
    BOOST_TEST(sub.counters().received == 3u * per_qos);
    BOOST_TEST(pub.counters().published == 3u * per_qos);
    BOOST_TEST(inbox.size() == 3u * per_qos);
}

BOOST_AUTO_TEST_CASE(retained_message_then_last_will_when_the_client_dies) {
    TestBroker broker;
    int to_child[2];
    int from_child[2];
    BOOST_TEST_REQUIRE(::pipe(to_child) == 0);
    BOOST_TEST_REQUIRE(::pipe(from_child) == 0);
    // The child connects with a will, publishes "online" retained, then ends without DISCONNECT
    // when told to (_exit closes the socket abruptly): the broker must send the will.
    pid_t child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
        ::close(to_child[1]);
        ::close(from_child[0]);
        try {
            Client c(options_for(broker, "will-child"), test_log());
            c.set_will({"status/dev1", "offline", 1, true});
            c.connect();
            c.publish("status/dev1", "online", 1, true);
            if (!c.wait_published(20000))
                ::_exit(3);
            char ok = 'y';
            if (::write(from_child[1], &ok, 1) != 1)
                ::_exit(4);
            char buf = 0;
            while (::read(to_child[0], &buf, 1) > 0) {
            }
            ::_exit(0);
        } catch (...) {
            ::_exit(2);
        }
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    char ready = 0;
    BOOST_TEST_REQUIRE(::read(from_child[0], &ready, 1) == 1);

    Inbox inbox;
    Client watcher(options_for(broker), test_log());
    watcher.on_message(inbox.handler());
    watcher.connect();
    watcher.subscribe("status/#", 1);
    BOOST_TEST_REQUIRE(inbox.wait_for(1));
    BOOST_TEST(inbox.messages()[0].payload == "online");
    BOOST_TEST(inbox.messages()[0].retain); // delivered from the retained store

    ::close(to_child[1]); // child reads EOF and _exits
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(child, &status, 0) == child);
    BOOST_TEST_REQUIRE(WIFEXITED(status));
    BOOST_TEST_REQUIRE(WEXITSTATUS(status) == 0);
    ::close(from_child[0]);

    BOOST_TEST_REQUIRE(inbox.wait_for(2));
    BOOST_TEST(inbox.messages()[1].topic == "status/dev1");
    BOOST_TEST(inbox.messages()[1].payload == "offline");

    // The will was retained: a late subscriber sees "offline", not "online".
    Inbox late;
    Client latecomer(options_for(broker), test_log());
    latecomer.on_message(late.handler());
    latecomer.connect();
    latecomer.subscribe("status/dev1", 1);
    BOOST_TEST_REQUIRE(late.wait_for(1));
    BOOST_TEST(late.messages()[0].payload == "offline");
    BOOST_TEST(late.messages()[0].retain);
}

BOOST_AUTO_TEST_CASE(clean_disconnect_does_not_send_the_will) {
    TestBroker broker;
    {
        Client c(options_for(broker), test_log());
        c.set_will({"status/dev2", "offline", 1, true});
        c.connect();
        c.publish("status/dev2", "online", 1, true);
        BOOST_TEST(c.wait_published(20000));
    } // destructor: DISCONNECT
    Inbox inbox;
    Client watcher(options_for(broker), test_log());
    watcher.on_message(inbox.handler());
    watcher.connect();
    watcher.subscribe("status/dev2", 1);
    BOOST_TEST_REQUIRE(inbox.wait_for(1));
    BOOST_TEST(inbox.messages()[0].payload == "online");
    // A marker published after the subscription: when it arrives, anything before it has too.
    Client pub(options_for(broker), test_log());
    pub.connect();
    pub.publish("status/dev2-marker", "x", 1);
    watcher.subscribe("status/dev2-marker", 1);
    pub.publish("status/dev2-marker", "x", 1);
    BOOST_TEST_REQUIRE(inbox.wait_for(2));
    for (const Message& m : inbox.messages())
        BOOST_TEST(m.payload != "offline");
}

BOOST_AUTO_TEST_CASE(persistent_session_receives_what_was_published_while_away) {
    TestBroker broker;
    auto opts = options_for(broker, "persistent-sub");
    opts.clean_session = false;
    {
        Client sub(opts, test_log());
        sub.connect();
        sub.subscribe("p/#", 1);
    } // clean disconnect; the session and its subscription stay with the broker

    Client pub(options_for(broker), test_log());
    pub.connect();
    const int n = 200;
    for (int i = 0; i < n; ++i)
        pub.publish("p/x", std::to_string(i), 1);
    BOOST_TEST_REQUIRE(pub.wait_published(20000));

    Inbox inbox;
    Client sub(opts, test_log()); // no subscribe(): the session remembers it
    sub.on_message(inbox.handler());
    sub.connect();
    BOOST_TEST_REQUIRE(inbox.wait_for(n));
    auto got = inbox.messages();
    BOOST_TEST(got.size() == static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        BOOST_TEST(got[static_cast<std::size_t>(i)].payload == std::to_string(i));
}

BOOST_AUTO_TEST_CASE(reconnects_and_resubscribes_after_a_broker_restart) {
    TestBroker broker; // persistence off: the restarted broker has forgotten every subscription
    Inbox inbox;
    Client sub(options_for(broker), test_log());
    sub.on_message(inbox.handler());
    sub.connect();
    sub.subscribe("r/#", 1);
    Client pub(options_for(broker), test_log());
    pub.connect();

    broker.stop();
    BOOST_TEST_REQUIRE(eventually([&] { return !sub.connected() && !pub.connected(); }));
    broker.start();
    BOOST_TEST_REQUIRE(eventually([&] { return sub.connected() && pub.connected(); }, 60));
    BOOST_TEST(sub.counters().reconnects >= 1u);
    BOOST_TEST(pub.counters().reconnects >= 1u);

    // The resubscription races with our publishes: probe until one arrives, then count.
    BOOST_TEST_REQUIRE(eventually([&] {
        pub.publish("r/probe", "probe", 1);
        return inbox.wait_for(1, 0);
    }));
    const int n = 50;
    for (int i = 0; i < n; ++i)
        pub.publish("r/data", std::to_string(i), 1);
    auto data = [&] {
        std::set<std::string> payloads;
        for (const Message& m : inbox.messages())
            if (m.topic == "r/data")
                payloads.insert(m.payload);
        return payloads;
    };
    BOOST_TEST(eventually([&] { return data().size() >= static_cast<std::size_t>(n); }));
    BOOST_TEST(data().size() == static_cast<std::size_t>(n));
}

BOOST_AUTO_TEST_CASE(qos1_published_while_the_broker_is_down_arrives_after_it_returns) {
    // Persistence on, so the subscriber's session survives the restart and queues for it.
    TestBroker broker({"persistence true", "persistence_location @DIR@/", "autosave_interval 0"});
    auto sub_opts = options_for(broker, "outage-sub");
    sub_opts.clean_session = false;
    Inbox inbox;
    Client sub(sub_opts, test_log());
    sub.on_message(inbox.handler());
    sub.connect();
    sub.subscribe("o/#", 1);
    Client pub(options_for(broker), test_log());
    pub.connect();

    broker.stop();
    BOOST_TEST_REQUIRE(eventually([&] { return !pub.connected() && !sub.connected(); }));
    const int n = 20;
    for (int i = 0; i < n; ++i)
        pub.publish("o/data", std::to_string(i), 1); // queued inside the client
    BOOST_TEST(!pub.wait_published(0));
    broker.start();

    BOOST_TEST_REQUIRE(pub.wait_published(60000));
    BOOST_TEST_REQUIRE(inbox.wait_for(n, 60));
    std::set<std::string> data;
    for (const Message& m : inbox.messages())
        data.insert(m.payload);
    BOOST_TEST(data.size() == static_cast<std::size_t>(n));
    BOOST_TEST(pub.counters().dropped == 0u);
}

BOOST_AUTO_TEST_CASE(shared_subscription_splits_the_stream) {
    TestBroker broker;
    auto shared = options_for(broker);
    shared.share_group = "ingest";
    Inbox a_in, b_in;
    Client a(shared, test_log());
    Client b(shared, test_log());
    a.on_message(a_in.handler());
    b.on_message(b_in.handler());
    a.connect();
    b.connect();
    a.subscribe("s/#", 1);
    b.subscribe("s/#", 1);

    Client pub(options_for(broker), test_log());
    pub.connect();
    const int n = 200;
    for (int i = 0; i < n; ++i)
        pub.publish("s/x", std::to_string(i), 1);
    BOOST_TEST_REQUIRE(pub.wait_published(20000));
    BOOST_TEST_REQUIRE(eventually([&] { return a_in.size() + b_in.size() >= n; }));

    BOOST_TEST(a_in.size() > 0u);
    BOOST_TEST(b_in.size() > 0u);
    std::multiset<std::string> all;
    for (const auto& m : a_in.messages())
        all.insert(m.payload);
    for (const auto& m : b_in.messages())
        all.insert(m.payload);
    BOOST_TEST(all.size() == static_cast<std::size_t>(n)); // none twice
    for (int i = 0; i < n; ++i)
        BOOST_TEST(all.count(std::to_string(i)) == 1u);
}

BOOST_AUTO_TEST_CASE(publish_blocks_while_the_broker_does_not_acknowledge) {
    TestBroker broker;
    auto sub_opts = options_for(broker, "bp-sub");
    Inbox inbox;
    Client sub(sub_opts, test_log());
    sub.on_message(inbox.handler());
    sub.connect();
    sub.subscribe("bp/#", 1);
    Client pub(options_for(broker), test_log());
    pub.connect();

    broker.pause(); // connection up, nothing acknowledged
    const int n = 1500;
    std::atomic<int> returned{0};
    std::thread publisher([&] {
        for (int i = 0; i < n; ++i) {
            pub.publish("bp/x", std::to_string(i), 1);
            ++returned;
        }
    });
    // The bound is 1000 unacknowledged messages: the 1001st publish() must wait.
    BOOST_TEST(eventually([&] { return returned.load() >= 1000; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    BOOST_TEST(returned.load() == 1000);
    BOOST_TEST(!pub.wait_published(100));

    broker.resume();
    publisher.join();
    BOOST_TEST(returned.load() == n);
    BOOST_TEST(pub.wait_published(30000));
    BOOST_TEST_REQUIRE(inbox.wait_for(n, 60));
    auto got = inbox.messages();
    for (int i = 0; i < n; ++i)
        BOOST_TEST(got[static_cast<std::size_t>(i)].payload == std::to_string(i));
}

BOOST_AUTO_TEST_CASE(subscribe_before_connect_is_sent_on_connect) {
    TestBroker broker;
    Inbox inbox;
    Client sub(options_for(broker), test_log());
    sub.on_message(inbox.handler());
    int connects = 0;
    sub.on_connect([&] { ++connects; });
    sub.subscribe("early/#", 1);
    sub.connect();
    BOOST_TEST(connects == 1);
    Client pub(options_for(broker), test_log());
    pub.connect();
    BOOST_TEST_REQUIRE(eventually([&] {
        pub.publish("early/x", "hello", 1);
        return inbox.wait_for(1, 0);
    }));
    BOOST_TEST(inbox.messages()[0].payload == "hello");
}

BOOST_AUTO_TEST_CASE(client_is_destroyed_cleanly_while_reconnecting) {
    TestBroker broker;
    auto c = std::make_unique<Client>(options_for(broker), test_log());
    c->connect();
    c->publish("d/x", "queued", 1);
    broker.stop();
    BOOST_TEST_REQUIRE(eventually([&] { return !c->connected(); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // into the reconnect backoff
    auto t0 = std::chrono::steady_clock::now();
    c.reset(); // must not wait for the broker (ctest's timeout would catch a hang)
    BOOST_TEST_MESSAGE("destroyed in " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now() - t0)
                                              .count()
                                       << " ms");
}

// hold_acknowledgements(): a QoS 1 message is acknowledged only once released, so a client that
// goes away before releasing gets it again in its persistent session, and one that released it
// does not.
BOOST_AUTO_TEST_CASE(held_messages_come_again_until_they_are_acknowledged) {
    TestBroker broker({"log_type all"}); // the subscription shows in its log
    auto opts = options_for(broker, "holder");
    opts.clean_session = false;
    Client pub(options_for(broker), test_log());
    pub.connect();
    const std::size_t n = 5;
    {
        Inbox inbox;
        Client sub(opts, test_log());
        sub.hold_acknowledgements();
        sub.on_message(inbox.handler());
        sub.connect();
        sub.subscribe_nowait("h/#", 1);
        BOOST_TEST_REQUIRE(eventually([&] {
            sub.check();
            return broker.log().find("holder 1 h/#") != std::string::npos;
        }));
        for (std::size_t i = 0; i < n; ++i)
            pub.publish("h/x", std::to_string(i), 1);
        BOOST_TEST_REQUIRE(inbox.wait_for(n));
        sub.acknowledge(inbox.messages()[n - 2].seq); // not the last: nothing may go yet
    } // gone without acknowledging all: the broker keeps them
    {
        Inbox inbox;
        Client sub(opts, test_log());
        sub.hold_acknowledgements();
        sub.on_message(inbox.handler());
        sub.connect();
        BOOST_TEST_REQUIRE(inbox.wait_for(n));
        const auto got = inbox.messages();
        for (std::size_t i = 0; i < n; ++i)
            BOOST_TEST(got[i].payload == std::to_string(i));
        BOOST_TEST(got[n - 1].seq == n);
        sub.acknowledge(got[n - 1].seq);
    } // released, then a clean disconnect: acknowledged
    // MQTT does not answer a DISCONNECT: the broker may still be reading the last PUBACKs when the
    // next session with this id takes over, and then sends those messages again. Wait until it
    // has read the DISCONNECT, which comes after them.
    BOOST_TEST_REQUIRE(eventually(
        [&] { return broker.log().find("Client holder disconnected") != std::string::npos; }));
    pub.publish("h/x", "marker", 1);
    BOOST_TEST_REQUIRE(pub.wait_published(20000));
    Inbox inbox;
    Client sub(opts, test_log());
    sub.on_message(inbox.handler());
    sub.connect();
    BOOST_TEST_REQUIRE(inbox.wait_for(1));
    BOOST_TEST(inbox.messages().front().payload == "marker");
}

// hold_acknowledgements() under a flood: once PUBACKs flow again, mosquitto 2.0.11 sends all it has
// queued, whatever max_inflight_messages says. A client that read all of it before writing
// anything held its PUBACKs and its PINGREQ until the consumer had stored the whole backlog (the
// soak: keepalive timeouts, reconnects, the backlog delivered again and again). It reads at most a
// window (1,000 messages) past what the consumer released, then waits for the release.
BOOST_AUTO_TEST_CASE(held_acknowledgements_bound_what_is_read_ahead_of_the_consumer) {
    TestBroker broker({"log_type all", "max_inflight_messages 100", "max_queued_messages 100000"});
    auto opts = options_for(broker, "flooded");
    opts.clean_session = false;
    Client pub(options_for(broker), test_log());
    pub.connect();
    Inbox inbox;
    Client sub(opts, test_log());
    sub.hold_acknowledgements();
    sub.on_message(inbox.handler());
    sub.connect();
    sub.subscribe_nowait("f/#", 1);
    BOOST_TEST_REQUIRE(eventually([&] {
        sub.check();
        return broker.log().find("flooded 1 f/#") != std::string::npos;
    }));
    const std::size_t n = 5000;
    for (std::size_t i = 0; i < n; ++i)
        pub.publish("f/x", std::to_string(i), 1);
    BOOST_TEST_REQUIRE(pub.wait_published(60000));
    // The broker's first max_inflight_messages, then nothing until they are acknowledged.
    BOOST_TEST_REQUIRE(inbox.wait_for(100));
    sub.acknowledge(inbox.messages()[99].seq);
    // Now the broker sends the other 4,900 at once; the client reads at most 1,000 of them and
    // waits (given time to read them all: 2 s for what takes a few ms on loopback).
    BOOST_TEST_REQUIRE(inbox.wait_for(101));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const std::size_t read_ahead = inbox.size() - 100;
    BOOST_TEST_MESSAGE("read ahead of the consumer: " << read_ahead);
    BOOST_TEST(read_ahead <= 1000U);
    // Released as they come, the rest arrives, each message once and in order, on one connection.
    BOOST_TEST_REQUIRE(eventually([&] {
        sub.check();
        const auto got = inbox.messages();
        sub.acknowledge(got.back().seq);
        return got.size() >= n;
    }));
    const auto got = inbox.messages();
    BOOST_TEST(got.size() == n);
    for (std::size_t i = 0; i < got.size() && i < n; ++i)
        BOOST_TEST_REQUIRE(got[i].payload == std::to_string(i));
    BOOST_TEST(broker.log().find("exceeded timeout") == std::string::npos);
    BOOST_TEST(sub.counters().reconnects == 0U);
}
