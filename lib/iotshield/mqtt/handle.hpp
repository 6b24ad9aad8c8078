#pragma once
// What Client and ClientGroup share about a libmosquitto handle (internal to mqtt/): the
// process-wide library use count, the options every handle gets (protocol, TCP_NODELAY,
// credentials, TLS), and the wording of refusals. libmosquitto's types stay out of this header.
#include "iotshield/core/broker_options.hpp"

#include <cstddef>
#include <string>

struct mosquitto;

namespace iots::mqtt::detail {

// QoS>0 messages on the wire at once per connection; the rest wait in libmosquitto's queue.
inline constexpr int kMaxInflight = 100;
// Unknown acknowledgements kept at most per connection (see on_publish): a bound, not a working
// size.
inline constexpr std::size_t kMaxEarlyAcks = 4096;

// mosquitto_lib_init/cleanup are process-wide and not thread-safe: one count under one lock.
void lib_acquire();
void lib_release();

// Applies the broker options to a new handle; throws Error(usage), Error(no_input) (an unreadable
// CA file, certificate or key) or Error(config) (TLS settings rejected).
void configure(mosquitto* mosq, const core::BrokerOptions& options);

// CONNACK codes of MQTT 3.1.1 (1-5) and MQTT 5 (128+) that mean "you may not".
[[nodiscard]] bool is_auth_refusal(int connack_rc);
// CONNACK codes that reject the client id.
[[nodiscard]] bool is_id_rejected(int connack_rc);
[[nodiscard]] bool is_tls_error(int mosq_rc);
// "Connection Refused: not authorised." -> "not authorised"
[[nodiscard]] std::string connack_reason(int connack_rc);
// "OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed" -> the last part.
[[nodiscard]] std::string tls_reason(const std::string& log_line);
// 10000 -> "10", 2500 -> "2.5"
[[nodiscard]] std::string format_seconds(int ms);

} // namespace iots::mqtt::detail
