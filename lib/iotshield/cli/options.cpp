#include "iotshield/cli/options.hpp"

#include "iotshield/core/duration.hpp"
#include "iotshield/core/error.hpp"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

namespace iots::cli {

void add_broker_options(CLI::App& app, core::BrokerOptions& o, bool with_share) {
    app.add_option("-h,--host", o.host,
                   "MQTT broker host (env IOTS_BROKER); none: use stdin/stdout")
        ->envname("IOTS_BROKER");
    app.add_option("-p,--port", o.port, "MQTT broker port (1883, 8883 for TLS)")
        ->check(CLI::Range(1, 65535));
    app.add_option("-q,--qos", o.qos, "MQTT quality of service 0, 1 or 2")->check(CLI::Range(0, 2));
    app.add_option("-i,--id", o.client_id, "MQTT client id (needed for a persistent session)");
    app.add_flag(
        "-c,--disable-clean-session", [&o](std::int64_t) { o.clean_session = false; },
        "Persistent session: the broker keeps subscriptions and QoS>0 messages for -i");
    app.add_option("-u,--username", o.username, "MQTT user name (env IOTS_MQTT_USER)")
        ->envname("IOTS_MQTT_USER");
    app.add_option("--password-file", o.password_file,
                   "File whose first line is the MQTT password (else env IOTS_MQTT_PASSWORD)");
    app.add_option("--cafile", o.cafile, "CA certificate file: connect with TLS");
    app.add_option("--capath", o.capath, "Directory of CA certificates: connect with TLS");
    app.add_option("--cert", o.certfile, "Client certificate for TLS authentication");
    app.add_option("--key", o.keyfile, "Client private key for TLS authentication");
    app.add_flag("--insecure", o.insecure,
                 "Do not check the broker's host name in its certificate");
    app.add_option("-k,--keepalive", o.keepalive, "MQTT keepalive in seconds")
        ->check(CLI::Range(5, 65535));
    app.add_option("--topic-prefix", o.topic_prefix, "Topic prefix (default iotshield)");
    if (with_share)
        app.add_option("--share", o.share_group,
                       "Shared subscription group: $share/GROUP/... (scale out behind a broker)");
}

void finish_broker_options(core::BrokerOptions& o) {
    const std::string& password_file = o.password_file;
    if (const char* pw = std::getenv("IOTS_MQTT_PASSWORD"); pw != nullptr)
        o.password = pw;
    if (!password_file.empty()) {
        std::ifstream in(password_file);
        if (!in)
            throw Error(Exit::no_input, "cannot read password file '" + password_file + "'");
        std::getline(in, o.password);
        if (!o.password.empty() && o.password.back() == '\r') // a file written on Windows
            o.password.pop_back();
    }
    // host:port (from IOTS_BROKER), [v6-address]:port; a bare IPv6 address has several colons.
    const auto colon = o.host.rfind(':');
    const bool bracketed = !o.host.empty() && o.host.front() == '[';
    if (colon != std::string::npos &&
        (o.host.find(':') == colon || (bracketed && colon > 0 && o.host[colon - 1] == ']'))) {
        const std::string_view digits = std::string_view(o.host).substr(colon + 1);
        int port = 0;
        const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (digits.empty() || ec != std::errc{} || ptr != digits.data() + digits.size() ||
            port < 1 || port > 65535)
            throw Error(Exit::usage, "broker '" + o.host + "': bad port (1 to 65535)");
        o.port = port;
        o.host.resize(colon);
    }
    if (!o.host.empty() && o.host.front() == '[') {
        if (o.host.size() < 3 || o.host.back() != ']')
            throw Error(Exit::usage, "broker '" + o.host + "': unbalanced [ ]");
        o.host = o.host.substr(1, o.host.size() - 2);
    }
    if (!o.clean_session && o.client_id.empty())
        throw Error(Exit::usage, "-c (persistent session) needs a client id: give -i ID");
    if ((o.certfile.empty()) != (o.keyfile.empty()))
        throw Error(Exit::usage, "--cert and --key go together");
    if (!o.certfile.empty() && !o.tls())
        throw Error(Exit::usage, "--cert needs --cafile or --capath");
    if (o.topic_prefix.empty() || o.topic_prefix.find_first_of("+#") != std::string::npos)
        throw Error(Exit::usage, "--topic-prefix must be a plain topic without wildcards");
    if (!o.share_group.empty() && o.share_group.find_first_of("/+#") != std::string::npos)
        throw Error(Exit::usage, "--share GROUP must not contain '/', '+' or '#'");
}

void add_input_options(CLI::App& app, core::RejectPolicy& policy) {
    app.add_flag("--strict", policy.strict, "Exit with 65 at the first rejected record");
    app.add_option_function<std::uint64_t>(
        "--max-bad-lines", [&policy](const std::uint64_t& n) { policy.max_bad_lines = n; },
        "Exit with 65 when more than N records are rejected");
    app.add_option("--max-line-bytes", policy.max_line_bytes,
                   "Longest accepted input line or MQTT payload; longer ones are rejected "
                   "(default 1048576)")
        ->check(CLI::Range(std::size_t{64}, std::size_t{1} << 30));
}

CLI::Option* add_db_option(CLI::App& app, std::string& path, const std::string& help) {
    return app.add_option("--db", path, help + " (env IOTS_DB)")->envname("IOTS_DB");
}

CLI::Option* add_tz_option(CLI::App& app, std::string& name, const std::string& help) {
    return app.add_option("--tz", name, help);
}

core::Zone tz_zone(const std::string& name) {
    if (name.empty())
        return core::Zone::from_environment();
    try {
        return core::Zone::named(name);
    } catch (const Error& e) {
        throw Error(e.code(), std::string("--tz: ") + e.what());
    }
}

std::int64_t duration_ms(const std::string& option, const std::string& text) {
    const auto ms = core::parse_duration(text);
    if (!ms)
        throw Error(Exit::usage,
                    option + ": '" + text + "' is not a duration (like 500ms, 5s, 2h, 14d)");
    return *ms;
}

} // namespace iots::cli
