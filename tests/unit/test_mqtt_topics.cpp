// The topics of DESIGN §3 built and taken apart in one place (mqtt/topics.hpp), under any prefix.
#define BOOST_TEST_MODULE mqtt_topics
#include "iotshield/mqtt/topics.hpp"

#include <boost/test/unit_test.hpp>

using namespace iots;

BOOST_AUTO_TEST_CASE(topics_and_filters_under_a_prefix) {
    BOOST_TEST(mqtt::sensor_topic("iotshield", "esp32-a", "gas") ==
               "iotshield/sensors/esp32-a/gas");
    BOOST_TEST(mqtt::seed_topic("home/x") == "home/x/sensors/data");
    BOOST_TEST(mqtt::status_topic("home/x", "n1") == "home/x/status/n1");
    BOOST_TEST(mqtt::anomaly_topic("p", "d", "s") == "p/anomalies/d/s");
    BOOST_TEST(mqtt::alert_topic("p", "d") == "p/alerts/d");
    BOOST_TEST(mqtt::control_topic("p", "d") == "p/control/d");
    BOOST_TEST(mqtt::ack_topic("p", "d") == "p/control/d/ack");
    BOOST_TEST(mqtt::sensors_filter("p") == "p/sensors/#");
    BOOST_TEST(mqtt::status_filter("p") == "p/status/#");
    BOOST_TEST(mqtt::anomalies_filter("p") == "p/anomalies/#");
    BOOST_TEST(mqtt::acks_filter("p") == "p/control/+/ack");
    BOOST_TEST(mqtt::shared_filter("detectors", "home/sensors/#") ==
               "$share/detectors/home/sensors/#");
}

BOOST_AUTO_TEST_CASE(received_topics_taken_apart) {
    const mqtt::TopicParser t("home");
    BOOST_TEST(t.status_device("home/status/n1").value_or("?") == "n1");
    BOOST_TEST(!t.status_device("other/status/n1"));
    BOOST_TEST(t.is_status("home/status/#"));
    BOOST_TEST(!t.is_status("home/sensors/#"));

    const auto s = t.sensor_series("home/sensors/esp32-a/gas");
    BOOST_REQUIRE(s);
    BOOST_TEST(s->device == "esp32-a");
    BOOST_TEST(s->sensor == "gas");
    BOOST_TEST(!t.sensor_series("home/sensors/data")); // the seed's legacy topic
    BOOST_TEST(!t.sensor_series("home/sensors/a/b/c"));
    BOOST_TEST(!t.sensor_series("home/status/a/b"));

    BOOST_TEST(t.ack_device("home/control/esp32-a/ack").value_or("?") == "esp32-a");
    BOOST_TEST(!t.ack_device("home/control/esp32-a"));
    BOOST_TEST(!t.ack_device("away/control/esp32-a/ack"));
}
