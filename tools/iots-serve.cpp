// iots-serve: the dashboard, REST API, live stream (SSE) and actuator control over one database.
#include "iotshield/cli/options.hpp"
#include "iotshield/cli/run_tool.hpp"
#include "iotshield/http/params.hpp"
#include "iotshield/http/service.hpp"

namespace {

int serve_main(iots::cli::Context& ctx) {
    iots::http::ServerOptions o;
    iots::core::BrokerOptions broker;
    std::string listen = "127.0.0.1:8080", tokens_file, poll = "250ms", command_timeout = "10s";
    CLI::App app{"Serve the IoTShield dashboard, REST API and live stream from the database, and "
                 "send actuator commands over MQTT."};
    iots::cli::init_app(app);
    iots::cli::add_db_option(app, o.db_path, "SQLite database to serve (created if missing)")
        ->required();
    app.add_option("--listen", listen, "Address and port to serve on (default 127.0.0.1:8080)");
    app.add_option("--tokens", tokens_file,
                   "File of 'token scope' lines (scope read or control): every API call then "
                   "needs a bearer token, and clients other than loopback are served")
        ->check(iots::cli::readable_file("--tokens"));
    app.add_option("--allow-host", o.allowed_hosts,
                   "Also answer requests sent to this host name or address (repeatable); "
                   "loopback's and the --listen address are always answered")
        ->take_all();
    app.add_flag("--allow-control", o.allow_control,
                 "Without --tokens, let loopback clients send actuator commands");
    app.add_option("--threads", o.threads,
                   "Worker threads that answer requests; the sockets and live streams are all "
                   "served by one more (default 4)")
        ->check(iots::cli::whole_number(1, 256));
    app.add_option("--max-streams", o.max_streams, "Live streams open at once, in all (default 64)")
        ->check(iots::cli::whole_number(1, 100000));
    app.add_option("--max-streams-per-client", o.max_streams_per_client,
                   "Live streams open at once from one client address (default 4)")
        ->check(iots::cli::whole_number(1, 100000));
    app.add_option("--max-connections", o.max_connections,
                   "Connections open at once, in all; more are closed unanswered (default 512)")
        ->check(iots::cli::whole_number(1, 100000));
    app.add_option("--max-connections-per-client", o.max_connections_per_client,
                   "Connections open at once from one client address (default 64)")
        ->check(iots::cli::whole_number(1, 100000));
    app.add_option("--poll", poll,
                   "How often the live stream looks for new rows, 10ms to 10s (default 250ms)")
        ->check(iots::cli::duration_between(10, 10000));
    app.add_option("--command-timeout", command_timeout,
                   "A command no device has answered this long after it was sent becomes "
                   "'timeout', 10ms to 1d (default 10s)")
        ->check(iots::cli::duration_between(10, 24LL * 3600 * 1000));
    iots::cli::add_broker_options(app, broker, "none: no actuator control");
    ctx.parse(app);
    iots::cli::finish_broker_options(broker);
    const auto where = iots::http::parse_listen(listen);
    o.host = where.host;
    o.port = where.port;
    o.poll_ms = static_cast<int>(iots::cli::duration_ms("--poll", poll));
    o.command_timeout_ms = iots::cli::duration_ms("--command-timeout", command_timeout);
    o.topic_prefix = broker.topic_prefix;
    if (!tokens_file.empty())
        o.tokens = iots::http::Tokens::load(tokens_file);

    return iots::http::run(o, broker, ctx.log);
}

} // namespace

int main(int argc, char** argv) {
    return iots::cli::run_tool(argc, argv, "iots-serve", serve_main);
}
