#pragma once
// Many MQTT clients on one network thread, for a process that plays many devices (iots-sim): each
// member is its own connection with its own client id and last will, as a real node is, but all
// are driven by one epoll loop (no thread per client, no select() and its 1,024-descriptor limit).
// Members connect in parallel and reconnect on their own. Errors map to exit codes as Client's
// (DESIGN §5): unreachable broker 69, refused credentials or TLS 77, too few descriptors 1.
#include "iotshield/core/broker_options.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/mqtt/client.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iots::mqtt {

struct MemberOptions {
    std::string client_id; // empty: assigned by the broker
    std::optional<Will> will;
    std::optional<Message> birth; // published after every (re)connect, e.g. a retained "online"
    std::vector<std::pair<std::string, int>> subscriptions; // filter, QoS; on every (re)connect
};

class ClientGroup {
public:
    // Called on the network thread with the member's index; it must not block for long.
    using MessageHandler = std::function<void(std::size_t member, const Message& message)>;

    // Nothing touches the network until connect().
    ClientGroup(const core::BrokerOptions& options, const core::Logger& log);
    ~ClientGroup(); // disconnect(1000)
    ClientGroup(const ClientGroup&) = delete;
    ClientGroup& operator=(const ClientGroup&) = delete;

    // Before connect(); returns the member's index.
    std::size_t add(const MemberOptions& member);
    void on_message(MessageHandler handler); // before connect()

    // Raises the soft limit of open files to what the members need (three descriptors each) and
    // connects them all in parallel; returns when every member is connected and subscribed.
    // Throws Error(failure) when the hard limit is too low, Error(unavailable) when some member is
    // not connected after `patience_ms`, Error(permission) on refused credentials or TLS;
    // SIGINT/SIGTERM while connecting: ExitRequest(0).
    void connect(int patience_ms);
    // Thread-safe. Blocks while too many messages are in flight across the group (back-pressure);
    // never on the network thread. QoS>0 while disconnected is queued and sent on reconnect;
    // QoS 0 is counted as dropped.
    void publish(std::size_t member, std::string_view topic, std::string_view payload, int qos,
                 bool retain = false);
    // Waits until every QoS>0 publish is acknowledged and QoS 0 written, up to timeout_ms, and no
    // more than 2 s after SIGINT/SIGTERM; false on timeout.
    bool wait_published(int timeout_ms);
    // Sends DISCONNECT on every connection at once (so no will is published), waits up to
    // timeout_ms for them to be written, then closes everything and stops the network thread.
    void disconnect(int timeout_ms);

    [[nodiscard]] std::size_t size() const noexcept;
    [[nodiscard]] bool connected(std::size_t member) const noexcept;
    [[nodiscard]] std::size_t unacknowledged() const; // messages still pending
    [[nodiscard]] ClientCounters counters() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// Descriptors one member uses: its socket and libmosquitto's internal socket pair.
inline constexpr int kDescriptorsPerMember = 3;

} // namespace iots::mqtt
