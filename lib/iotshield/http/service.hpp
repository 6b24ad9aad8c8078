#pragma once
// iots-serve's service: the main parses options and calls run().
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/http/server.hpp"

namespace iots::http {

// Serves the dashboard and the API from o.db_path until SIGINT or SIGTERM, then closes the
// listener and the open live streams and returns 0. With a broker (broker.enabled()), commands go
// out through control/'s MQTT side and the nodes' answers come back to the server. Throws
// iots::Error (unavailable: the port or the broker; usage, no_input as the server's).
int run(const ServerOptions& o, const core::BrokerOptions& broker, const core::Logger& log);

} // namespace iots::http
