#pragma once
// RAII over libmosquitto: the only place its C API is used (STYLE, Layout). Connection errors map
// to exit codes (DESIGN §5): unreachable broker after retries 69, refused credentials or TLS 77.
// TCP_NODELAY is set on the socket: Nagle would add 20-40 ms to every small message. A client that
// subscribes asks for a quick ACK after each of its publishes, so that a broker without
// set_tcp_nodelay does not hold messages to it until the delayed-ACK timer (see ack_now()).
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/mqtt/topics.hpp" // for the tools that publish and subscribe

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace iots::mqtt {

struct Message {
    std::string topic;
    std::string payload;
    int qos = 0;
    bool retain = false;
    std::uint64_t seq = 0; // 1, 2, 3 ... in the order the client received them, for acknowledge()
};

struct Will {
    std::string topic;
    std::string payload;
    int qos = 1;
    bool retain = true;
};

struct ClientCounters {
    std::uint64_t received = 0;
    std::uint64_t published = 0;
    std::uint64_t reconnects = 0;
    std::uint64_t dropped = 0; // QoS 0 messages published while disconnected (lost by definition)
};

class Client {
public:
    using MessageHandler = std::function<void(const Message&)>;

    // Nothing touches the network until connect(): --help must work offline.
    Client(const core::BrokerOptions& options, const core::Logger& log);
    ~Client(); // disconnects cleanly (DISCONNECT, so the will is not sent) and frees the handle
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    void set_will(const Will& will); // before connect()
    // Before connect(), for a consumer that stores what it receives: nothing is written to the
    // broker (libmosquitto's PUBACK of a QoS>0 message first among it) while a QoS>0 message
    // received so far has not been released with acknowledge(). A message acknowledged to the
    // broker is then always one the consumer has stored: a crash loses none, the broker delivers
    // them again. QoS 1 only: at QoS 2 libmosquitto sends PUBREC before it hands a message over.
    // Use subscribe_nowait(): nothing is sent before the consumer releases messages.
    void hold_acknowledgements();
    // Thread-safe: every message up to Message::seq `seq` is safe, its acknowledgement may go.
    void acknowledge(std::uint64_t seq);
    // Set handlers before connect(). They run on the network thread: one that blocks stops reading
    // from the broker (TCP back-pressure); publish()/subscribe() inside a handler never block.
    void on_message(MessageHandler handler);  // called on the network thread
    void on_connect(std::function<void()> f); // after every (re)connect, e.g. to publish status

    // Connects, retrying with backoff for up to `patience_ms`, then starts the network thread,
    // which reconnects with backoff on its own. Throws Error(unavailable) or Error(permission)
    // (and Error(usage) for a rejected client id); SIGINT/SIGTERM while waiting: ExitRequest(0).
    void connect(int patience_ms = 10000);
    // Subscribes now and again after every reconnect, and waits (up to 10 s) for the broker's
    // answer; `filter` gets $share/GROUP/ when --share is set, unless `shared` is false (every
    // member of the group then receives it). A subscription the broker refuses (SUBACK 0x80)
    // throws Error(permission).
    void subscribe(const std::string& filter, int qos, bool shared = true);
    // The same without waiting for the answer: check() reports it.
    void subscribe_nowait(const std::string& filter, int qos, bool shared = true);
    // Throws Error(permission) once the broker has refused a subscribe_nowait() subscription;
    // warns once about one still unanswered after 10 s. Cheap: call it from the consumer's loop.
    void check();
    // Thread-safe. Blocks while too many messages are in flight (back-pressure: at most 1000 not
    // yet acknowledged, or for QoS 0 not yet written). Never blocks on the network thread.
    // QoS>0 while disconnected is queued and sent on reconnect; QoS 0 is counted as dropped.
    void publish(std::string_view topic, std::string_view payload, int qos, bool retain = false);
    // Waits until every QoS>0 publish is acknowledged (and QoS 0 written), up to timeout_ms;
    // false on timeout.
    bool wait_published(int timeout_ms);
    void disconnect();

    [[nodiscard]] bool connected() const noexcept;
    [[nodiscard]] ClientCounters counters() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace iots::mqtt
