// A client that publishes in answer to what it receives (iots-detect: an anomaly per flagged
// reading) must not leave its socket in Linux's delayed-ACK ("pingpong") mode: a broker without
// set_tcp_nodelay (mosquitto's default) then holds every further message to it until the
// delayed-ACK timer fires (Nagle), which put ~10 ms on the alert path (issue 10). Checked on the
// kernel's own state (getsockopt TCP_QUICKACK reads "not in pingpong mode"), not on a clock.
#define BOOST_TEST_MODULE mqtt_quick_ack
#include "iotshield/mqtt/client.hpp"
#include "mqtt_test_broker.hpp"

#include <boost/test/unit_test.hpp>

#include <dirent.h>
#include <netinet/tcp.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>
#include <vector>

using iots::mqtt::Client;
using iots::mqtt::Message;
using iots::test::TestBroker;

namespace {

const iots::core::Logger& test_log() {
    static const iots::core::Logger log("test_mqtt_quick_ack", iots::core::Level::warning);
    return log;
}

iots::core::BrokerOptions options_for(const TestBroker& broker) {
    iots::core::BrokerOptions o;
    o.host = "127.0.0.1";
    o.port = broker.port();
    o.qos = 0;
    return o;
}

// This process's TCP sockets connected to 127.0.0.1:port.
std::set<int> sockets_to(int port) {
    std::set<int> fds;
    DIR* dir = ::opendir("/proc/self/fd");
    BOOST_TEST_REQUIRE(dir != nullptr);
    while (const dirent* e = ::readdir(dir)) {
        const int fd = std::atoi(e->d_name);
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        if (e->d_name[0] == '.' ||
            ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0 ||
            peer.sin_family != AF_INET || ntohs(peer.sin_port) != port)
            continue;
        fds.insert(fd);
    }
    ::closedir(dir);
    return fds;
}

// 1: the socket acknowledges at once; 0: it is in delayed-ACK (pingpong) mode.
int quick_ack(int fd) {
    int v = -1;
    socklen_t len = sizeof v;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &v, &len) != 0)
        return -1;
    return v;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_client_that_answers_what_it_receives_still_acknowledges_at_once) {
    TestBroker broker; // mosquitto's default: no set_tcp_nodelay
    const int rounds = 8;

    std::mutex mutex;
    std::condition_variable changed;
    std::vector<int> state; // quick_ack() of the answering socket as each ping is handled
    int answer_fd = -1;

    // The answering client: like iots-detect, it publishes from its message handler.
    Client answer(options_for(broker), test_log());
    answer.on_message([&](const Message& m) {
        {
            std::lock_guard lock(mutex);
            state.push_back(quick_ack(answer_fd));
        }
        answer.publish("pong/" + m.topic.substr(5), "p", 0);
    });
    const auto before = sockets_to(broker.port());
    answer.connect();
    const auto after = sockets_to(broker.port());
    std::vector<int> fresh;
    for (int fd : after)
        if (before.count(fd) == 0)
            fresh.push_back(fd);
    BOOST_TEST_REQUIRE(fresh.size() == 1U);
    answer_fd = fresh.front();
    answer.subscribe("ping/#", 0);

    // The driver sends the next ping when the last pong is back: one message in flight at a time.
    Client driver(options_for(broker), test_log());
    std::atomic<int> pongs{0};
    driver.on_message([&](const Message&) {
        const int n = ++pongs;
        if (n < rounds)
            driver.publish("ping/" + std::to_string(n), "x", 0);
        { const std::lock_guard lock(mutex); } // no lost wake-up between test and wait
        changed.notify_all();
    });
    driver.connect();
    driver.subscribe("pong/#", 0);
    driver.publish("ping/0", "x", 0);

    {
        std::unique_lock lock(mutex);
        BOOST_TEST_REQUIRE(changed.wait_for(lock, std::chrono::seconds(20),
                                            [&] { return pongs.load() >= rounds; }));
    }
    std::lock_guard lock(mutex);
    BOOST_TEST_REQUIRE(state.size() == static_cast<std::size_t>(rounds));
    // The first ping comes before any answer; every later one follows a publish.
    for (std::size_t i = 1; i < state.size(); ++i)
        BOOST_TEST(state[i] == 1, "ping " << i << " found the socket in delayed-ACK mode");
}
