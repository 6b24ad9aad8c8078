#pragma once
// How to reach the MQTT broker: the mosquitto_sub/_pub flag set of DESIGN §3, as plain data.
// Passwords come from the environment (IOTS_MQTT_PASSWORD) or a file, never from the command line.
#include <string>

namespace iots::core {

struct BrokerOptions {
    std::string host; // empty: no broker (stdin/stdout instead)
    int port = 1883;
    int qos = 1;
    std::string client_id;     // -i; required for a persistent session
    bool clean_session = true; // -c turns it off
    std::string username;
    std::string password;      // from IOTS_MQTT_PASSWORD or --password-file
    std::string password_file; // --password-file: its first line is the password
    std::string cafile, capath, certfile, keyfile;
    bool insecure = false; // skip hostname verification (test brokers only)
    int keepalive = 30;
    std::string topic_prefix = "iotshield";
    std::string share_group; // --share GROUP: $share/GROUP/<filter>

    [[nodiscard]] bool enabled() const noexcept { return !host.empty(); }
    [[nodiscard]] bool tls() const noexcept { return !cafile.empty() || !capath.empty(); }
};

} // namespace iots::core
