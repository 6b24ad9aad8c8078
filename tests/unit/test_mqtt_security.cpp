// mqtt::Client error mapping (DESIGN §5) against a real mosquitto: refused credentials and failed
// TLS verification are 77 (permission), an unreachable broker is 69 (unavailable), bad options 2.
#define BOOST_TEST_MODULE mqtt_security
#include "iotshield/core/error.hpp"
#include "iotshield/mqtt/client.hpp"
#include "mqtt_test_broker.hpp"
#include "mqtt_test_inbox.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <thread>

using iots::Error;
using iots::Exit;
using iots::mqtt::Client;
using iots::test::Inbox;
using iots::test::TempDir;
using iots::test::TestBroker;

namespace {

const iots::core::Logger& test_log() {
    static const iots::core::Logger log("test_mqtt_security", iots::core::Level::error);
    return log;
}

iots::core::BrokerOptions options_for(int port) {
    iots::core::BrokerOptions o;
    o.host = "127.0.0.1";
    o.port = port;
    return o;
}

// Connects and returns the exit code of the Error thrown, or Exit::ok if it connected.
Exit connect_result(const iots::core::BrokerOptions& o, int patience_ms, std::string* message) {
    try {
        Client c(o, test_log());
        c.connect(patience_ms);
        return Exit::ok;
    } catch (const Error& e) {
        BOOST_TEST_MESSAGE("error " << static_cast<int>(e.code()) << ": " << e.what());
        if (message != nullptr)
            *message = e.what();
        return e.code();
    }
}

// A CA, and a server certificate it signed for 127.0.0.1 and localhost.
void make_ca(const TempDir& dir, const std::string& name) {
    iots::test::run_or_throw("cd '" + dir.path() + "' && openssl req -x509 -newkey ec -pkeyopt " +
                             "ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=" + name +
                             " -keyout " + name + ".key -out " + name + ".crt 2>/dev/null");
}
void make_server_cert(const TempDir& dir, const std::string& ca, const std::string& name = "server",
                      const std::string& san = "IP:127.0.0.1,DNS:localhost") {
    iots::test::run_or_throw(
        "cd '" + dir.path() +
        "' && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" +
        name + " -keyout " + name + ".key -out " + name + ".csr 2>/dev/null" +
        " && printf 'subjectAltName=" + san + "\\n' > " + name + ".cnf" +
        " && openssl x509 -req -in " + name + ".csr -CA " + ca + ".crt -CAkey " + ca +
        ".key -CAcreateserial -days 2 -extfile " + name + ".cnf -out " + name + ".crt 2>/dev/null");
}

} // namespace

BOOST_AUTO_TEST_CASE(wrong_password_is_a_permission_error_naming_the_broker) {
    TempDir keys;
    std::string passwd = keys.file("passwd");
    iots::test::run_or_throw("mosquitto_passwd -b -c '" + passwd + "' sensor s3cret");
    TestBroker broker({"allow_anonymous false", "password_file " + passwd});

    auto o = options_for(broker.port());
    o.username = "sensor";
    o.password = "wrong";
    std::string message;
    BOOST_TEST(static_cast<int>(connect_result(o, 10000, &message)) ==
               static_cast<int>(Exit::permission));
    BOOST_TEST(message.find("127.0.0.1:" + std::to_string(broker.port())) != std::string::npos,
               message);

    auto anonymous = options_for(broker.port());
    BOOST_TEST(static_cast<int>(connect_result(anonymous, 10000, nullptr)) ==
               static_cast<int>(Exit::permission));

    o.password = "s3cret"; // the same broker accepts the right password
    BOOST_TEST(static_cast<int>(connect_result(o, 10000, &message)) == static_cast<int>(Exit::ok),
               message);
}

BOOST_AUTO_TEST_CASE(unreachable_broker_is_unavailable_after_the_patience) {
    int port = iots::test::free_port(); // nothing listens there
    std::string message;
    BOOST_TEST(static_cast<int>(connect_result(options_for(port), 1500, &message)) ==
               static_cast<int>(Exit::unavailable));
    BOOST_TEST(message == "cannot reach broker 127.0.0.1:" + std::to_string(port) +
                              " after 1.5 s: Connection refused",
               message);
}

BOOST_AUTO_TEST_CASE(broker_that_appears_within_the_patience_is_reached) {
    TestBroker broker({}, false); // configured, not started
    auto o = options_for(broker.port());
    Client c(o, test_log());
    std::thread starter([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        broker.start();
    });
    try {
        c.connect(30000);
    } catch (...) {
        starter.join();
        throw;
    }
    starter.join();
    BOOST_TEST(c.connected());
}

BOOST_AUTO_TEST_CASE(tls_with_the_right_ca_connects_and_a_wrong_ca_is_refused) {
    TempDir keys;
    make_ca(keys, "ca");
    make_ca(keys, "other-ca");
    make_server_cert(keys, "ca");
    TestBroker broker({"cafile " + keys.file("ca.crt"), "certfile " + keys.file("server.crt"),
                       "keyfile " + keys.file("server.key")});

    auto o = options_for(broker.port());
    o.cafile = keys.file("ca.crt");
    {
        Inbox inbox;
        Client c(o, test_log());
        c.on_message(inbox.handler());
        c.connect();
        c.subscribe("tls/#", 1);
        c.publish("tls/x", "over tls", 1);
        BOOST_TEST_REQUIRE(inbox.wait_for(1));
        BOOST_TEST(inbox.messages()[0].payload == "over tls");
    }

    auto wrong = o;
    wrong.cafile = keys.file("other-ca.crt");
    std::string message;
    BOOST_TEST(static_cast<int>(connect_result(wrong, 10000, &message)) ==
               static_cast<int>(Exit::permission));
    BOOST_TEST(message.find("TLS") != std::string::npos, message);
    BOOST_TEST(message.find(std::to_string(broker.port())) != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(tls_certificate_for_another_name_is_refused_unless_insecure) {
    TempDir keys;
    make_ca(keys, "ca");
    make_server_cert(keys, "ca", "elsewhere", "DNS:elsewhere.example");
    TestBroker broker({"cafile " + keys.file("ca.crt"), "certfile " + keys.file("elsewhere.crt"),
                       "keyfile " + keys.file("elsewhere.key")});
    auto o = options_for(broker.port());
    o.cafile = keys.file("ca.crt");
    std::string message;
    BOOST_TEST(static_cast<int>(connect_result(o, 10000, &message)) ==
               static_cast<int>(Exit::permission));
    o.insecure = true; // test brokers only: the chain is still verified, the name is not
    BOOST_TEST(static_cast<int>(connect_result(o, 10000, &message)) == static_cast<int>(Exit::ok),
               message);
}

BOOST_AUTO_TEST_CASE(tls_file_that_cannot_be_read_is_no_input) {
    auto o = options_for(1);
    o.cafile = "/nonexistent/ca.crt";
    std::string message;
    BOOST_TEST(static_cast<int>(connect_result(o, 100, &message)) ==
               static_cast<int>(Exit::no_input));
    BOOST_TEST(message.find("/nonexistent/ca.crt") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(option_combinations_are_usage_errors) {
    auto persistent_without_id = options_for(1);
    persistent_without_id.clean_session = false;
    BOOST_TEST(static_cast<int>(connect_result(persistent_without_id, 100, nullptr)) ==
               static_cast<int>(Exit::usage));

    auto bad_group = options_for(1);
    bad_group.share_group = "a/b";
    BOOST_TEST(static_cast<int>(connect_result(bad_group, 100, nullptr)) ==
               static_cast<int>(Exit::usage));
}
