#include "iotshield/mqtt/handle.hpp"

#include "iotshield/core/error.hpp"

#include <mosquitto.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unistd.h>

namespace iots::mqtt::detail {

namespace {
std::mutex g_lib_mutex;
int g_lib_users = 0;
} // namespace

void lib_acquire() {
    std::lock_guard lock(g_lib_mutex);
    if (g_lib_users++ == 0)
        mosquitto_lib_init();
}

void lib_release() {
    std::lock_guard lock(g_lib_mutex);
    if (--g_lib_users == 0)
        mosquitto_lib_cleanup();
}

void configure(mosquitto* mosq, const core::BrokerOptions& options) {
    mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);

    if (!options.username.empty() || !options.password.empty()) {
        const char* user = options.username.empty() ? nullptr : options.username.c_str();
        const char* pass = options.password.empty() ? nullptr : options.password.c_str();
        if (mosquitto_username_pw_set(mosq, user, pass) != MOSQ_ERR_SUCCESS)
            throw Error(Exit::usage, "a password needs a user name (-u)");
    }

    if (options.tls() || !options.certfile.empty() || !options.keyfile.empty()) {
        auto readable = [](const std::string& what, const std::string& path) {
            if (!path.empty() && ::access(path.c_str(), R_OK) != 0)
                throw Error(Exit::no_input, fmt::format("cannot read {} '{}': {}", what, path,
                                                        std::strerror(errno)));
        };
        readable("CA file", options.cafile);
        readable("CA directory", options.capath);
        readable("certificate", options.certfile);
        readable("key", options.keyfile);
        if (!options.tls())
            throw Error(Exit::usage, "--cert/--key need --cafile or --capath");
        if (options.certfile.empty() != options.keyfile.empty())
            throw Error(Exit::usage, "--cert and --key go together");
        auto opt = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
        int rc = mosquitto_tls_set(mosq, opt(options.cafile), opt(options.capath),
                                   opt(options.certfile), opt(options.keyfile), nullptr);
        if (rc != MOSQ_ERR_SUCCESS)
            throw Error(Exit::config,
                        fmt::format("TLS settings rejected: {}", mosquitto_strerror(rc)));
        mosquitto_tls_insecure_set(mosq, options.insecure);
    }
}

bool is_auth_refusal(int rc) {
    return rc == 4 || rc == 5 || rc == 134 || rc == 135 || rc == 138 || rc == 140;
}

bool is_id_rejected(int rc) {
    return rc == 2 || rc == 133;
}

bool is_tls_error(int rc) {
    return rc == MOSQ_ERR_TLS || rc == MOSQ_ERR_TLS_HANDSHAKE;
}

std::string connack_reason(int rc) {
    std::string s = mosquitto_connack_string(rc);
    if (auto colon = s.find(": "); colon != std::string::npos)
        s.erase(0, colon + 2);
    if (!s.empty() && s.back() == '.')
        s.pop_back();
    return s;
}

std::string tls_reason(const std::string& log_line) {
    if (auto at = log_line.rfind("::"); at != std::string::npos)
        return log_line.substr(at + 2);
    return log_line;
}

std::string format_seconds(int ms) {
    if (ms % 1000 == 0)
        return fmt::format("{}", ms / 1000);
    return fmt::format("{:.1f}", ms / 1000.0);
}

} // namespace iots::mqtt::detail
