#include "iotshield/mqtt/client.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/mqtt/handle.hpp"
#include "iotshield/mqtt/topics.hpp"

#include <mosquitto.h>
#include <openssl/ssl.h>

#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace iots::mqtt {

namespace {

using namespace detail;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Messages handed to libmosquitto and not yet acknowledged (QoS>0) or written (QoS 0). Above this
// publish() waits: libmosquitto's own queue is unbounded, so this is what keeps memory flat.
constexpr std::size_t kClientMaxPending = 1000;
// Reconnect backoff of the network thread: 1, 2, 4, 8, 10, 10 ... s.
constexpr milliseconds kReconnectDelayMin{1000};
constexpr milliseconds kReconnectDelayMax{10000};
// Packets read in one turn of the network loop before it looks at its other work.
constexpr int kReadBurst = 100;
// hold_acknowledgements(): reading stops while this many messages, or messages older than this,
// wait for the consumer's release, until it releases them all. The acknowledgements (and a
// PINGREQ) queued behind them can then go. Without a bound, a broker that sends faster than the
// consumer stores (mosquitto 2.0.11 sends its whole queue once PUBACKs flow again, whatever
// max_inflight_messages says) kept every write back until its backlog was stored: no PUBACK and
// no PINGREQ for as long as that took, the keepalive expired, and the reconnect delivered the
// whole backlog again.
constexpr std::uint64_t kHoldWindow = 1000;
constexpr milliseconds kHoldPatience{250};
// A subscription unanswered this long is worth a warning.
constexpr auto kSubackPatience = std::chrono::seconds(10);

// True on the network thread while it runs one of our callbacks: blocking there would deadlock,
// since the same thread delivers the acknowledgements we would wait for.
thread_local bool t_in_callback = false;

struct CallbackScope {
    bool previous;
    CallbackScope() : previous(t_in_callback) { t_in_callback = true; }
    ~CallbackScope() { t_in_callback = previous; }
    CallbackScope(const CallbackScope&) = delete;
    CallbackScope& operator=(const CallbackScope&) = delete;
};

} // namespace

struct Client::Impl {
    core::BrokerOptions options;
    core::Logger log;
    mosquitto* mosq = nullptr;
    std::string address; // host:port, for messages

    MessageHandler message_handler;
    std::function<void()> connect_handler;

    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::pair<std::string, int>> subscriptions; // full filters ($share/... applied)
    std::unordered_map<int, int> pending;                   // mid -> qos, see kClientMaxPending
    std::unordered_set<int> early_acks;   // on_publish before publish() recorded the mid
    std::unordered_map<int, bool> suback; // mid -> granted, for subscribe() to wait on
    struct Unanswered {
        std::string filter;
        Clock::time_point since;
        bool warned = false;
    };
    std::unordered_map<int, Unanswered> unanswered; // subscribe_nowait() mids, for check()

    std::atomic<bool> is_connected{false};
    std::atomic<bool> loop_running{false};
    std::atomic<bool> ever_connected{false};
    std::atomic<bool> closing{false};
    std::atomic<bool> subscribed{false}; // see ack_now()
    std::atomic<std::uint64_t> received{0}, published{0}, reconnects{0}, dropped{0};

    // Written by the connect() phase only (before the network thread runs).
    int connack_rc = -1;
    std::string last_lib_error;

    // Our own network loop (not mosquitto_loop_start), so that writing can wait: libmosquitto in
    // threaded mode only queues packets, and they reach the socket in mosquitto_loop_write.
    std::thread thread;
    int wake = -1; // eventfd: packets queued or messages released by another thread, or closing
    bool more_to_read = false; // network thread: the last read stopped at kReadBurst
    // Network thread: a callback published (iots-detect's anomaly, scored as it arrived). The
    // read burst ends there, so that it is written before the next readings are scored.
    bool published_in_callback = false;
    // hold_acknowledgements(): the newest QoS>0 message whose PUBACK libmosquitto has queued
    // (network thread), and the newest the consumer has released.
    bool hold = false;
    std::uint64_t delivered = 0;
    std::uint64_t held_back = 0;
    std::atomic<std::uint64_t> released{0};
    Clock::time_point held_since; // network thread: delivery of the oldest message not released

    Impl(const core::BrokerOptions& o, const core::Logger& l) : options(o), log(l) {
        address = fmt::format("{}:{}", options.host, options.port);
    }

    static Impl* self(void* userdata) { return static_cast<Impl*>(userdata); }

    static void on_connect_cb(mosquitto*, void* ud, int rc) {
        CallbackScope scope;
        self(ud)->handle_connect(rc);
    }
    static void on_disconnect_cb(mosquitto*, void* ud, int rc) {
        CallbackScope scope;
        self(ud)->handle_disconnect(rc);
    }
    static void on_publish_cb(mosquitto*, void* ud, int mid) {
        CallbackScope scope;
        self(ud)->handle_publish(mid);
    }
    static void on_message_cb(mosquitto*, void* ud, const mosquitto_message* m) {
        CallbackScope scope;
        self(ud)->handle_message(m);
    }
    static void on_subscribe_cb(mosquitto*, void* ud, int mid, int count, const int* granted) {
        CallbackScope scope;
        bool ok = count > 0;
        for (int i = 0; i < count; ++i)
            ok = ok && granted[i] >= 0 && granted[i] <= 2;
        Impl* impl = self(ud);
        {
            std::lock_guard lock(impl->mutex);
            if (impl->suback.size() >= kMaxEarlyAcks) // resubscriptions nobody waits for
                impl->suback.clear();
            impl->suback[mid] = ok;
        }
        impl->changed.notify_all();
    }
    static void on_log_cb(mosquitto*, void* ud, int level, const char* text) {
        Impl* impl = self(ud);
        if (level == MOSQ_LOG_ERR || level == MOSQ_LOG_WARNING) {
            if (!impl->loop_running)
                impl->last_lib_error = text;
            impl->log.debug("mqtt: {}", text);
        }
    }

    void handle_connect(int rc) {
        if (!loop_running)
            connack_rc = rc;
        if (rc != 0) {
            if (loop_running)
                log.warn("broker {} refused the reconnection: {}", address, connack_reason(rc));
            return;
        }
        // Counted before connected() can see it, so a caller that waits for the reconnection
        // also sees it counted.
        const bool reconnected = ever_connected.exchange(true);
        if (reconnected)
            ++reconnects;
        is_connected = true;
        std::vector<std::pair<std::string, int>> subs;
        {
            std::lock_guard lock(mutex);
            // QoS 0 messages queued before this connection are gone (libmosquitto drops its packet
            // queue on reconnect) and will never be reported written.
            std::erase_if(pending, [](const auto& p) { return p.second == 0; });
            early_acks.clear();
            subs = subscriptions;
        }
        changed.notify_all();
        for (const auto& [filter, qos] : subs) {
            int rc2 = mosquitto_subscribe(mosq, nullptr, filter.c_str(), qos);
            if (rc2 != MOSQ_ERR_SUCCESS)
                log.warn("cannot resubscribe to {} on broker {}: {}", filter, address,
                         mosquitto_strerror(rc2));
        }
        if (reconnected)
            log.warn("reconnected to broker {}", address);
        if (connect_handler)
            connect_handler();
    }

    void handle_disconnect(int rc) {
        is_connected = false;
        {
            std::lock_guard lock(mutex);
            std::erase_if(pending, [](const auto& p) { return p.second == 0; });
            unanswered.clear(); // the resubscription on reconnect takes over
        }
        changed.notify_all();
        if (rc != 0 && loop_running && !closing)
            log.warn("lost connection to broker {}; reconnecting", address);
    }

    void handle_publish(int mid) {
        ++published;
        ack_now();
        {
            std::lock_guard lock(mutex);
            if (pending.erase(mid) == 0) {
                // publish() has not recorded this mid yet: remember, so it does not wait for it.
                if (early_acks.size() >= kMaxEarlyAcks)
                    early_acks.clear();
                early_acks.insert(mid);
            }
        }
        changed.notify_all();
    }

    // A client that publishes soon after it receives (iots-detect: an anomaly per flagged
    // reading) puts its socket in Linux's "pingpong" mode, where received data is acknowledged
    // only by the delayed-ACK timer (up to 40 ms). A broker without set_tcp_nodelay (mosquitto's
    // default) holds every further message to us until that ACK comes (Nagle): the next fire alarm
    // waits for a kernel timer. Asking for a quick ACK right after each publish is written (QoS 0)
    // or acknowledged (QoS 1, 2) leaves that mode. Only in a client that subscribed: a pure
    // publisher receives nothing to acknowledge.
    void ack_now() {
        if (!subscribed.load(std::memory_order_relaxed))
            return;
        const int fd = mosquitto_socket(mosq);
        const int one = 1;
        if (fd >= 0)
            ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }

    void handle_message(const mosquitto_message* m) {
        ++received;
        if (!message_handler)
            return;
        Message msg;
        msg.topic = m->topic;
        if (m->payloadlen > 0)
            msg.payload.assign(static_cast<const char*>(m->payload),
                               static_cast<std::size_t>(m->payloadlen));
        msg.qos = m->qos;
        msg.retain = m->retain;
        msg.seq = ++delivered;
        // libmosquitto queued this message's PUBACK (or PUBCOMP) before calling us.
        if (m->qos > 0) {
            if (released.load() >= held_back)
                held_since = Clock::now();
            held_back = msg.seq;
        }
        message_handler(msg);
    }

    // Remembers the subscription (for every reconnect) and sends it now if connected. Returns the
    // SUBSCRIBE's mid, 0 when nothing was sent.
    // $share/GROUP/filter under --share, unless every member must receive it.
    [[nodiscard]] std::string full_filter(const std::string& filter, bool shared) const {
        return options.share_group.empty() || !shared ? filter
                                                      : shared_filter(options.share_group, filter);
    }

    int send_subscribe(const std::string& full, int qos) {
        if (mosquitto_sub_topic_check(full.c_str()) != MOSQ_ERR_SUCCESS)
            throw Error(Exit::usage, fmt::format("invalid topic filter '{}'", full));
        {
            std::lock_guard lock(mutex);
            subscriptions.emplace_back(full, qos);
        }
        subscribed = true;
        if (!is_connected)
            return 0; // subscribed on (re)connect
        int mid = 0;
        int rc = mosquitto_subscribe(mosq, &mid, full.c_str(), qos);
        if (rc == MOSQ_ERR_NO_CONN)
            return 0;
        if (rc != MOSQ_ERR_SUCCESS)
            throw Error(Exit::failure, fmt::format("cannot subscribe to '{}' on broker {}: {}",
                                                   full, address, mosquitto_strerror(rc)));
        notify();
        return mid;
    }

    void notify() const {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(wake, &one, sizeof one);
    }

    [[nodiscard]] bool may_write() const noexcept { return !hold || released >= held_back; }
    // Network thread: false while the consumer has too much, or for too long, not released.
    [[nodiscard]] bool may_read() const noexcept {
        if (may_write())
            return true;
        return held_back - released.load() < kHoldWindow &&
               Clock::now() - held_since < kHoldPatience;
    }

    // Reads until the socket has nothing more, at most `burst` packets. Data TLS has already
    // decrypted is not seen by poll(): read on while SSL_pending says there is some.
    int read_some(int burst) {
        more_to_read = false;
        for (int i = 0; i < burst; ++i) {
            errno = 0;
            published_in_callback = false;
            const int rc = mosquitto_loop_read(mosq, 1);
            if (rc != MOSQ_ERR_SUCCESS)
                return rc;
            if (mosquitto_socket(mosq) < 0)
                return MOSQ_ERR_SUCCESS;
            if (published_in_callback) { // write it now, then read on without waiting
                more_to_read = true;
                return MOSQ_ERR_SUCCESS;
            }
            if (!may_read()) { // the rest waits until the consumer releases what it has
                more_to_read = true;
                return MOSQ_ERR_SUCCESS;
            }
            // EAGAIN may be stale (libmosquitto's wake-up pipe fills up): only a hint to stop.
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                auto* ssl = static_cast<SSL*>(mosquitto_ssl_get(mosq));
                if (ssl == nullptr || SSL_pending(ssl) <= 0)
                    return MOSQ_ERR_SUCCESS;
            }
        }
        more_to_read = true;
        return MOSQ_ERR_SUCCESS;
    }

    // One turn of the network loop: wait up to timeout_ms for the socket or a wake-up, read,
    // write what may go, keep the connection alive. Returns a libmosquitto code; on a lost
    // connection libmosquitto has closed the socket and called on_disconnect.
    int step(int timeout_ms, int burst) {
        const int sock = mosquitto_socket(mosq);
        if (sock < 0)
            return MOSQ_ERR_NO_CONN;
        // Throttled (may_read() false), only the consumer's release (the wake-up) is waited for.
        const bool reading = may_read();
        pollfd fds[2] = {{sock, static_cast<short>(reading ? POLLIN : 0), 0}, {wake, POLLIN, 0}};
        if (may_write() && mosquitto_want_write(mosq))
            fds[0].events |= POLLOUT;
        const int n = ::poll(fds, 2, more_to_read && reading ? 0 : timeout_ms);
        if (n < 0 && errno != EINTR)
            return MOSQ_ERR_ERRNO;
        if (n > 0 && (fds[1].revents & POLLIN) != 0) {
            std::uint64_t count = 0;
            [[maybe_unused]] const auto r = ::read(wake, &count, sizeof count);
        }
        // Read whenever the socket stirs: that also drives a TLS handshake in progress. A hang-up
        // or an error is read even while throttled, so that it is seen.
        const bool stirred = n > 0 && (fds[0].revents & (reading ? ~0 : POLLHUP | POLLERR)) != 0;
        if ((more_to_read && reading) || stirred) {
            if (const int rc = read_some(burst); rc != MOSQ_ERR_SUCCESS)
                return rc;
        }
        // Only after reading: what was just read has its PUBACK queued, not yet released.
        if (mosquitto_socket(mosq) >= 0 && may_write() && mosquitto_want_write(mosq))
            if (const int rc = mosquitto_loop_write(mosq, 1); rc != MOSQ_ERR_SUCCESS)
                return rc;
        if (mosquitto_socket(mosq) < 0)
            return MOSQ_ERR_SUCCESS;
        return mosquitto_loop_misc(mosq);
    }

    // Waits up to `delay`, or until closing. False when closing.
    bool pause(milliseconds delay) {
        pollfd fd{wake, POLLIN, 0};
        const auto until = Clock::now() + delay;
        while (!closing) {
            const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now());
            if (left.count() <= 0)
                return true;
            if (::poll(&fd, 1, static_cast<int>(left.count())) > 0) {
                std::uint64_t count = 0;
                [[maybe_unused]] const auto r = ::read(wake, &count, sizeof count);
            }
        }
        return false;
    }

    // The network thread: the loop, reconnection with backoff, and at the end the DISCONNECT
    // (and what was queued before it, if it may go).
    void run() noexcept {
        auto delay = kReconnectDelayMin;
        while (!closing) {
            if (mosquitto_socket(mosq) >= 0) {
                if (is_connected) // a refused CONNACK keeps the backoff growing
                    delay = kReconnectDelayMin;
                const int rc = step(1000, kReadBurst);
                if (rc == MOSQ_ERR_ERRNO && mosquitto_socket(mosq) >= 0 &&
                    !pause(milliseconds(100)))
                    break; // poll() failed: do not spin
                continue;
            }
            if (!pause(delay))
                break;
            held_back = 0; // reconnecting discards the queued packets: their PUBACKs never go
            const int rc = mosquitto_reconnect(mosq);
            if (rc != MOSQ_ERR_SUCCESS)
                log.debug("broker {}: {}", address,
                          rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc));
            delay = std::min(delay * 2, kReconnectDelayMax);
        }
        const auto until = Clock::now() + milliseconds(1000);
        while (mosquitto_socket(mosq) >= 0 && may_write() && mosquitto_want_write(mosq) &&
               Clock::now() < until)
            if (step(100, 1) != MOSQ_ERR_SUCCESS)
                break;
    }

    [[noreturn]] void throw_unavailable(int patience_ms, const std::string& why) const {
        throw Error(Exit::unavailable, fmt::format("cannot reach broker {} after {} s: {}", address,
                                                   format_seconds(patience_ms), why));
    }
    [[noreturn]] void throw_tls(int rc) const {
        std::string why =
            last_lib_error.empty() ? mosquitto_strerror(rc) : tls_reason(last_lib_error);
        throw Error(Exit::permission,
                    fmt::format("TLS handshake with broker {} failed: {}", address, why));
    }

    // One attempt: TCP (and TLS) connect, CONNECT, wait for CONNACK until `deadline`.
    // Returns an empty string on success, else why it failed; throws on refusals not worth
    // retrying.
    std::string attempt(Clock::time_point deadline) {
        connack_rc = -1;
        last_lib_error.clear();
        errno = 0;
        int rc = mosquitto_connect(mosq, options.host.c_str(), options.port, options.keepalive);
        if (rc == MOSQ_ERR_ERRNO)
            return std::strerror(errno);
        if (rc == MOSQ_ERR_EAI)
            return fmt::format("cannot resolve host name '{}'", options.host);
        if (is_tls_error(rc))
            throw_tls(rc);
        if (rc == MOSQ_ERR_INVAL)
            throw Error(Exit::usage, fmt::format("invalid options for broker {} (keepalive {} s?)",
                                                 address, options.keepalive));
        if (rc != MOSQ_ERR_SUCCESS)
            return mosquitto_strerror(rc);

        // Wait for the CONNACK; give a slow broker at least a second past the patience.
        auto limit = std::max(deadline, Clock::now() + milliseconds(1000));
        while (connack_rc < 0 && Clock::now() < limit) {
            errno = 0;
            rc = step(100, 1); // one packet at a time: nothing past the CONNACK yet
            if (connack_rc >= 0)
                break;
            if (is_tls_error(rc))
                throw_tls(rc);
            if (rc == MOSQ_ERR_ERRNO)
                return errno != 0 ? std::strerror(errno) : "connection closed";
            if (rc != MOSQ_ERR_SUCCESS)
                return last_lib_error.empty() ? mosquitto_strerror(rc) : last_lib_error;
        }
        if (connack_rc < 0)
            return "no answer to CONNECT";
        if (connack_rc == 0)
            return {};
        if (is_auth_refusal(connack_rc))
            throw Error(Exit::permission,
                        fmt::format("broker {} refused the connection: {}{}", address,
                                    connack_reason(connack_rc),
                                    options.username.empty() ? " (no user name given)" : ""));
        if (is_id_rejected(connack_rc))
            throw Error(Exit::usage, fmt::format("broker {} rejected the client id '{}'", address,
                                                 options.client_id));
        return connack_reason(connack_rc); // e.g. server unavailable: retry
    }
};

Client::Client(const core::BrokerOptions& options, const core::Logger& log)
    : m_impl(std::make_unique<Impl>(options, log)) {
    Impl& d = *m_impl;
    if (!d.options.share_group.empty() &&
        d.options.share_group.find_first_of("/+#") != std::string::npos)
        throw Error(Exit::usage, fmt::format("--share: group '{}' must not contain '/', '+' or '#'",
                                             d.options.share_group));
    if (!d.options.clean_session && d.options.client_id.empty())
        throw Error(Exit::usage, "a persistent session (-c) needs a client id (-i)");

    lib_acquire();
    const char* id = d.options.client_id.empty() ? nullptr : d.options.client_id.c_str();
    d.mosq = mosquitto_new(id, d.options.clean_session, &d);
    if (d.mosq == nullptr) {
        lib_release();
        throw Error(Exit::failure,
                    fmt::format("cannot create an MQTT client: {}", std::strerror(errno)));
    }
    // From here the destructor of m_impl's owner does not run if we throw: clean up by hand.
    try {
        configure(d.mosq, d.options);
        mosquitto_int_option(d.mosq, MOSQ_OPT_SEND_MAXIMUM, kMaxInflight);
        mosquitto_threaded_set(d.mosq, true); // packets are only queued: run() writes them
        d.wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (d.wake < 0)
            throw Error(Exit::failure, fmt::format("eventfd: {}", std::strerror(errno)));
        mosquitto_connect_callback_set(d.mosq, &Impl::on_connect_cb);
        mosquitto_disconnect_callback_set(d.mosq, &Impl::on_disconnect_cb);
        mosquitto_publish_callback_set(d.mosq, &Impl::on_publish_cb);
        mosquitto_message_callback_set(d.mosq, &Impl::on_message_cb);
        mosquitto_subscribe_callback_set(d.mosq, &Impl::on_subscribe_cb);
        mosquitto_log_callback_set(d.mosq, &Impl::on_log_cb);
    } catch (...) {
        if (d.wake >= 0)
            ::close(d.wake);
        mosquitto_destroy(d.mosq);
        lib_release();
        throw;
    }
}

Client::~Client() {
    try {
        disconnect();
    } catch (...) { // a destructor must not throw; disconnect() only logs anyway
    }
    mosquitto_destroy(m_impl->mosq);
    ::close(m_impl->wake);
    lib_release();
}

void Client::set_will(const Will& will) {
    Impl& d = *m_impl;
    if (will.payload.size() > INT_MAX)
        throw Error(Exit::usage, "last will payload too large");
    int rc = mosquitto_will_set(d.mosq, will.topic.c_str(), static_cast<int>(will.payload.size()),
                                will.payload.data(), will.qos, will.retain);
    if (rc != MOSQ_ERR_SUCCESS)
        throw Error(Exit::usage, fmt::format("invalid last will on topic '{}': {}", will.topic,
                                             mosquitto_strerror(rc)));
}

void Client::hold_acknowledgements() {
    m_impl->hold = true;
}

void Client::acknowledge(std::uint64_t seq) {
    Impl& d = *m_impl;
    std::uint64_t was = d.released.load();
    while (was < seq && !d.released.compare_exchange_weak(was, seq)) {
    }
    if (was < seq)
        d.notify();
}

void Client::on_message(MessageHandler handler) {
    m_impl->message_handler = std::move(handler);
}

void Client::on_connect(std::function<void()> f) {
    m_impl->connect_handler = std::move(f);
}

void Client::connect(int patience_ms) {
    Impl& d = *m_impl;
    if (d.loop_running)
        return;
    d.closing = false;
    patience_ms = std::max(patience_ms, 0);
    const auto deadline = Clock::now() + milliseconds(patience_ms);
    auto delay = milliseconds(100);
    mosquitto_log_callback_set(d.mosq, &Impl::on_log_cb); // the reason of a failed attempt
    for (;;) {
        std::string why = d.attempt(deadline);
        if (why.empty())
            break;
        d.log.debug("broker {}: {}", d.address, why);
        if (Clock::now() + delay > deadline)
            d.throw_unavailable(patience_ms, why);
        // Sleep in small steps so that SIGINT/SIGTERM end the wait (DESIGN §5: exit 0).
        for (auto until = Clock::now() + delay; Clock::now() < until;) {
            if (core::stop_requested())
                throw ExitRequest(0);
            std::this_thread::sleep_for(milliseconds(20));
        }
        delay = std::min(delay * 2, milliseconds(2000));
    }
    d.loop_running = true;
    // libmosquitto formats a debug line (malloc, vsnprintf, free) for every packet it sends or
    // receives whenever a log callback is set: two a reading for a subscriber at QoS 1. Past the
    // connection the callback only feeds -vv (debug), so without it there is none.
    if (!d.log.enabled(core::Level::debug))
        mosquitto_log_callback_set(d.mosq, nullptr);
    // SIGINT, SIGTERM and SIGUSR1 must interrupt the tool's own reads (DESIGN §5): the network
    // thread starts with them blocked, so the kernel never picks it.
    sigset_t block, old;
    sigemptyset(&block);
    for (int sig : {SIGINT, SIGTERM, SIGUSR1, SIGHUP, SIGQUIT, SIGPIPE})
        sigaddset(&block, sig);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    try {
        d.thread = std::thread([&d] { d.run(); });
    } catch (const std::system_error& e) {
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        d.loop_running = false;
        mosquitto_disconnect(d.mosq);
        throw Error(Exit::failure,
                    fmt::format("cannot start the MQTT network thread: {}", e.what()));
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void Client::subscribe_nowait(const std::string& filter, int qos, bool shared) {
    Impl& d = *m_impl;
    const std::string full = d.full_filter(filter, shared);
    // A SUBACK handled before this is recorded waits in d.suback for check().
    if (const int mid = d.send_subscribe(full, qos); mid != 0) {
        std::lock_guard lock(d.mutex);
        d.unanswered[mid] = {full, Clock::now()};
    }
}

void Client::check() {
    Impl& d = *m_impl;
    std::lock_guard lock(d.mutex);
    for (auto it = d.unanswered.begin(); it != d.unanswered.end();) {
        auto& [mid, sub] = *it;
        if (const auto answer = d.suback.find(mid); answer != d.suback.end()) {
            const bool granted = answer->second;
            d.suback.erase(answer);
            if (!granted)
                throw Error(Exit::permission, fmt::format("broker {} refused the subscription to "
                                                          "'{}'",
                                                          d.address, sub.filter));
            it = d.unanswered.erase(it);
            continue;
        }
        if (!sub.warned && Clock::now() - sub.since > kSubackPatience) {
            sub.warned = true;
            d.log.warn("no answer from broker {} to the subscription to '{}' yet", d.address,
                       sub.filter);
        }
        ++it;
    }
}

void Client::subscribe(const std::string& filter, int qos, bool shared) {
    Impl& d = *m_impl;
    const std::string full = d.full_filter(filter, shared);
    const int mid = d.send_subscribe(full, qos);
    if (mid == 0 || t_in_callback)
        return;
    // Wait for the SUBACK, so that what is published after subscribe() returns is delivered.
    std::unique_lock lock(d.mutex);
    bool answered = d.changed.wait_for(lock, kSubackPatience,
                                       [&] { return d.suback.count(mid) != 0 || !d.is_connected; });
    auto it = d.suback.find(mid);
    if (it == d.suback.end()) {
        if (answered || !d.is_connected)
            return; // connection lost meanwhile: on_connect subscribes again
        d.log.warn("no answer from broker {} to the subscription to '{}' yet", d.address, full);
        return;
    }
    bool granted = it->second;
    d.suback.erase(it);
    if (!granted)
        throw Error(Exit::permission,
                    fmt::format("broker {} refused the subscription to '{}'", d.address, full));
}

void Client::publish(std::string_view topic, std::string_view payload, int qos, bool retain) {
    Impl& d = *m_impl;
    if (payload.size() > INT_MAX)
        throw Error(Exit::bad_input, "MQTT payload too large");
    if (!t_in_callback) {
        // Back-pressure: wait until the broker has taken enough of what we gave it. A stop request
        // lets this one message through (one over the bound) so the tool can flush and exit.
        std::unique_lock lock(d.mutex);
        while (d.pending.size() >= kClientMaxPending && !core::stop_requested())
            d.changed.wait_for(lock, milliseconds(100));
    }
    std::string topic_z(topic);
    int mid = 0;
    int rc = mosquitto_publish(d.mosq, &mid, topic_z.c_str(), static_cast<int>(payload.size()),
                               payload.data(), qos, retain);
    if (rc == MOSQ_ERR_NO_CONN && qos == 0) {
        ++d.dropped; // QoS 0 while disconnected: at most once means lost
        return;
    }
    if (rc == MOSQ_ERR_INVAL || rc == MOSQ_ERR_MALFORMED_UTF8)
        throw Error(Exit::usage, fmt::format("cannot publish to topic '{}': {}", topic_z,
                                             mosquitto_strerror(rc)));
    // QoS>0 while disconnected (MOSQ_ERR_NO_CONN): queued by libmosquitto, sent on reconnect.
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
        throw Error(Exit::failure, fmt::format("cannot publish to broker {}: {}", d.address,
                                               mosquitto_strerror(rc)));
    {
        std::lock_guard lock(d.mutex);
        if (d.early_acks.erase(mid) == 0)
            d.pending.emplace(mid, qos);
    }
    if (!t_in_callback) // the network thread writes after its callbacks anyway
        d.notify();
    else // and at once: its read burst ends here
        d.published_in_callback = true;
}

bool Client::wait_published(int timeout_ms) {
    Impl& d = *m_impl;
    if (t_in_callback)
        return false;
    std::unique_lock lock(d.mutex);
    return d.changed.wait_for(lock, milliseconds(std::max(timeout_ms, 0)),
                              [&] { return d.pending.empty(); });
}

void Client::disconnect() {
    Impl& d = *m_impl;
    d.closing = true;
    mosquitto_disconnect(d.mosq); // MOSQ_ERR_NO_CONN when not connected: nothing to do
    if (d.thread.joinable()) {
        d.notify();
        d.thread.join(); // it writes the DISCONNECT if it may, within a second
    }
    d.loop_running = false;
    d.is_connected = false;
}

bool Client::connected() const noexcept {
    return m_impl->is_connected;
}

ClientCounters Client::counters() const noexcept {
    ClientCounters c;
    c.received = m_impl->received;
    c.published = m_impl->published;
    c.reconnects = m_impl->reconnects;
    c.dropped = m_impl->dropped;
    return c;
}

} // namespace iots::mqtt
