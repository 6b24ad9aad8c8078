#include "iotshield/mqtt/client_group.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/mqtt/handle.hpp"

#include <mosquitto.h>

#include <fmt/format.h>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace iots::mqtt {

namespace {

using namespace detail;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Messages handed to libmosquitto and not yet acknowledged (QoS>0) or written (QoS 0), across the
// group. At kGroupMaxPending publish() waits until kLowWater: libmosquitto's queues are unbounded.
constexpr std::size_t kGroupMaxPending = 20000;
constexpr std::size_t kLowWater = kGroupMaxPending * 3 / 4;
constexpr std::size_t kMaxConnecting = 64; // connection attempts under way at once
constexpr int kSpareDescriptors = 64; // stdio, logs, the epoll and wake descriptors, a database
constexpr auto kTick = milliseconds(100);
constexpr auto kStopGrace = milliseconds(2000); // longest wait for acknowledgements after a signal
constexpr std::uint64_t kWakeKey = UINT64_MAX;

thread_local bool t_network_thread = false;

class FileDescriptor {
public:
    FileDescriptor() = default;
    explicit FileDescriptor(int fd) : m_fd(fd) {}
    ~FileDescriptor() {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    FileDescriptor& operator=(FileDescriptor&& other) noexcept {
        std::swap(m_fd, other.m_fd);
        return *this;
    }
    [[nodiscard]] int get() const noexcept { return m_fd; }

private:
    int m_fd = -1;
};

// Raises the soft limit of open files to what `members` clients need, within the hard limit.
void ensure_descriptors(std::size_t members) {
    const rlim_t need = static_cast<rlim_t>(members) * kDescriptorsPerMember + kSpareDescriptors;
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
        return;
    const rlim_t raised = rl.rlim_max == RLIM_INFINITY ? need : std::min(rl.rlim_max, need);
    if (raised > rl.rlim_cur) {
        rlimit want{raised, rl.rlim_max};
        if (::setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl.rlim_cur = raised;
    }
    if (rl.rlim_cur < need)
        throw Error(Exit::failure,
                    fmt::format("{} MQTT clients need about {} open files, but the limit is {} "
                                "(raise it, e.g. ulimit -n {})",
                                members, need, rl.rlim_cur, need));
}

enum class Phase { idle, connecting, running, closing };
enum class State { idle, waiting, connecting, up, closed };

} // namespace

struct ClientGroup::Impl {
    struct Member {
        Impl* group = nullptr;
        std::size_t index = 0;
        mosquitto* mosq = nullptr;
        MemberOptions options;
        std::atomic<bool> ready{false}; // connected and subscribed

        // Network thread only.
        int fd = -1;
        bool watching_out = false;
        bool initialised = false; // mosquitto_connect_async has been called once
        bool ever_up = false;
        State state = State::idle;
        Clock::time_point retry_at{};
        milliseconds backoff{0};
        int subacks_due = 0;
        std::string last_lib_error;

        // Under Impl::mutex.
        std::unordered_map<int, int> pending; // mid -> qos
        std::unordered_set<int> early_acks;   // on_publish before publish() recorded the mid
        bool dirty = false;                   // queued packets the network thread has not seen
    };

    core::BrokerOptions options;
    core::Logger log;
    std::string address;
    std::vector<std::unique_ptr<Member>> members;
    MessageHandler message_handler;

    mutable std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::size_t> dirty;
    std::size_t total_pending = 0;
    int fatal_code = 0; // an Exit, set by the network thread while connecting
    std::string fatal_message;
    std::string last_failure; // why the last connection attempt failed

    std::atomic<Phase> phase{Phase::idle};
    std::atomic<bool> quit{false};
    std::atomic<std::size_t> ready_count{0};
    std::atomic<std::size_t> open_sockets{0};
    std::atomic<std::uint64_t> received{0}, published{0}, reconnects{0}, dropped{0};

    FileDescriptor epoll_fd, wake_fd;
    std::thread thread;
    std::atomic<bool> closing_started{false}; // set by the network thread
    bool all_up_reported = true; // network thread only: for the lost/reconnected warnings

    Impl(const core::BrokerOptions& o, const core::Logger& l) : options(o), log(l) {
        address = fmt::format("{}:{}", options.host, options.port);
    }

    static Member& of(void* userdata) { return *static_cast<Member*>(userdata); }

    void wake() const {
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(wake_fd.get(), &one, sizeof one);
    }

    void set_fatal(Exit code, std::string message) {
        {
            std::lock_guard lock(mutex);
            if (fatal_code == 0) {
                fatal_code = static_cast<int>(code);
                fatal_message = std::move(message);
            }
        }
        changed.notify_all();
    }

    void note_failure(Member& m, std::string why) {
        log.debug("{}: broker {}: {}", m.options.client_id, address, why);
        std::lock_guard lock(mutex);
        last_failure = std::move(why);
    }

    void set_ready(Member& m, bool ready) {
        if (m.ready.exchange(ready) == ready)
            return;
        if (ready)
            ++ready_count;
        else
            --ready_count;
        changed.notify_all();
    }

    // Records a publish handed to libmosquitto and makes sure the network thread writes it.
    // Returns libmosquitto's code; MOSQ_ERR_NO_CONN for QoS 0 means dropped.
    int publish_tracked(Member& m, const char* topic, std::string_view payload, int qos,
                        bool retain) {
        int mid = 0;
        const int rc = mosquitto_publish(m.mosq, &mid, topic, static_cast<int>(payload.size()),
                                         payload.data(), qos, retain);
        if (rc == MOSQ_ERR_NO_CONN && qos == 0) {
            ++dropped;
            return rc;
        }
        if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
            return rc;
        bool first = false;
        {
            std::lock_guard lock(mutex);
            if (m.early_acks.erase(mid) == 0) {
                m.pending.emplace(mid, qos);
                ++total_pending;
            }
            first = mark_dirty(m);
        }
        if (first)
            wake();
        return rc;
    }

    // Under mutex. True when the network thread has to be woken.
    bool mark_dirty(Member& m) {
        if (m.dirty)
            return false;
        m.dirty = true;
        dirty.push_back(m.index);
        return dirty.size() == 1;
    }

    // Forgets QoS 0 messages of a connection that ended: libmosquitto drops them unwritten.
    void forget_qos0(Member& m) {
        {
            std::lock_guard lock(mutex);
            total_pending -= std::erase_if(m.pending, [](const auto& p) { return p.second == 0; });
            m.early_acks.clear();
        }
        changed.notify_all();
    }

    // --- libmosquitto callbacks, on the network thread ---

    static void on_connect_cb(mosquitto*, void* ud, int rc) {
        Member& m = of(ud);
        m.group->handle_connect(m, rc);
    }
    static void on_disconnect_cb(mosquitto*, void* ud, int /*rc*/) {
        Member& m = of(ud);
        m.group->set_ready(m, false);
        m.group->forget_qos0(m);
    }
    static void on_publish_cb(mosquitto*, void* ud, int mid) {
        Member& m = of(ud);
        m.group->handle_publish(m, mid);
    }
    static void on_subscribe_cb(mosquitto*, void* ud, int /*mid*/, int count, const int* granted) {
        Member& m = of(ud);
        bool ok = count > 0;
        for (int i = 0; i < count; ++i)
            ok = ok && granted[i] >= 0 && granted[i] <= 2;
        m.group->handle_suback(m, ok);
    }
    static void on_message_cb(mosquitto*, void* ud, const mosquitto_message* msg) {
        Member& m = of(ud);
        ++m.group->received;
        if (!m.group->message_handler)
            return;
        Message message;
        message.topic = msg->topic;
        if (msg->payloadlen > 0)
            message.payload.assign(static_cast<const char*>(msg->payload),
                                   static_cast<std::size_t>(msg->payloadlen));
        message.qos = msg->qos;
        message.retain = msg->retain;
        m.group->message_handler(m.index, message);
    }
    static void on_log_cb(mosquitto*, void* ud, int level, const char* text) {
        Member& m = of(ud);
        if (level == MOSQ_LOG_ERR || level == MOSQ_LOG_WARNING) {
            if (t_network_thread) // the only thread that reads it
                m.last_lib_error = text;
            m.group->log.debug("mqtt: {}", text);
        }
    }

    void handle_connect(Member& m, int rc) {
        if (rc != 0) {
            const bool connecting = phase == Phase::connecting;
            if (is_auth_refusal(rc) && connecting)
                set_fatal(Exit::permission,
                          fmt::format("broker {} refused the connection: {}{}", address,
                                      connack_reason(rc),
                                      options.username.empty() ? " (no user name given)" : ""));
            else if (is_id_rejected(rc) && connecting)
                set_fatal(Exit::usage, fmt::format("broker {} rejected the client id '{}'", address,
                                                   m.options.client_id));
            note_failure(m, connack_reason(rc));
            return;
        }
        forget_qos0(m);
        if (m.ever_up)
            ++reconnects; // before the state, so whoever sees it up also sees it counted
        m.ever_up = true;
        m.state = State::up;
        m.backoff = milliseconds(0);
        if (m.options.birth) {
            const Message& b = *m.options.birth;
            const int prc = publish_tracked(m, b.topic.c_str(), b.payload, b.qos, b.retain);
            if (prc != MOSQ_ERR_SUCCESS)
                log.warn("cannot publish to '{}' on broker {}: {}", b.topic, address,
                         mosquitto_strerror(prc));
        }
        m.subacks_due = 0;
        for (const auto& [filter, qos] : m.options.subscriptions) {
            const int src = mosquitto_subscribe(m.mosq, nullptr, filter.c_str(), qos);
            if (src == MOSQ_ERR_SUCCESS)
                ++m.subacks_due;
            else
                log.warn("cannot subscribe to {} on broker {}: {}", filter, address,
                         mosquitto_strerror(src));
        }
        if (m.subacks_due > 0) {
            bool first = false;
            {
                std::lock_guard lock(mutex);
                first = mark_dirty(m);
            }
            if (first)
                wake();
        } else {
            set_ready(m, true);
        }
    }

    void handle_suback(Member& m, bool granted) {
        if (!granted) {
            const std::string what = m.options.subscriptions.empty()
                                         ? std::string("a topic")
                                         : "'" + m.options.subscriptions.front().first + "'";
            if (phase == Phase::connecting)
                set_fatal(Exit::permission,
                          fmt::format("broker {} refused the subscription to {}", address, what));
            else
                log.warn("broker {} refused the subscription to {}", address, what);
        }
        if (m.subacks_due > 0 && --m.subacks_due == 0 && m.state == State::up)
            set_ready(m, true);
    }

    void handle_publish(Member& m, int mid) {
        ++published;
        bool notify = false;
        {
            std::lock_guard lock(mutex);
            if (m.pending.erase(mid) == 0) {
                if (m.early_acks.size() >= kMaxEarlyAcks)
                    m.early_acks.clear();
                m.early_acks.insert(mid);
            } else {
                --total_pending;
                notify = total_pending == 0 || total_pending == kLowWater;
            }
        }
        if (notify)
            changed.notify_all();
    }

    // --- the network thread ---

    void watch(Member& m, bool force_add) {
        const int fd = mosquitto_socket(m.mosq);
        if (fd < 0) {
            if (m.fd >= 0) { // closed by libmosquitto: the kernel dropped it from the epoll set
                m.fd = -1;
                --open_sockets;
                changed.notify_all();
                closed(m);
            }
            return;
        }
        const bool out = mosquitto_want_write(m.mosq);
        epoll_event ev{};
        ev.events = EPOLLIN | (out ? EPOLLOUT : 0U);
        ev.data.u64 = m.index;
        if (fd != m.fd || force_add) {
            if (m.fd < 0)
                ++open_sockets;
            m.fd = fd;
            m.watching_out = out;
            if (::epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
                ::epoll_ctl(epoll_fd.get(), EPOLL_CTL_MOD, fd, &ev);
            return;
        }
        if (out == m.watching_out)
            return;
        m.watching_out = out;
        if (::epoll_ctl(epoll_fd.get(), EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT)
            ::epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, fd, &ev);
    }

    // After a libmosquitto call on `m` that returned rc: remember why it failed, follow its socket.
    void settle(Member& m, int rc) {
        if (rc == MOSQ_ERR_ERRNO) {
            const int e = errno;
            note_failure(m, e != 0 ? std::strerror(e) : "connection closed");
        } else if (is_tls_error(rc)) {
            const std::string why =
                m.last_lib_error.empty() ? mosquitto_strerror(rc) : tls_reason(m.last_lib_error);
            if (phase == Phase::connecting)
                set_fatal(Exit::permission,
                          fmt::format("TLS handshake with broker {} failed: {}", address, why));
            note_failure(m, why);
        } else if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
            note_failure(m, m.last_lib_error.empty() ? mosquitto_strerror(rc) : m.last_lib_error);
        }
        watch(m, false);
    }

    // The connection of `m` is gone: try again after a backoff, unless the group is closing.
    void closed(Member& m) {
        if (phase == Phase::closing || closing_started) {
            m.state = State::closed;
            return;
        }
        const bool connecting = phase == Phase::connecting;
        const auto first = connecting ? milliseconds(100) : milliseconds(1000);
        const auto most = connecting ? milliseconds(2000) : milliseconds(10000);
        m.backoff = m.backoff.count() == 0 ? first : std::min(m.backoff * 2, most);
        m.retry_at = Clock::now() + m.backoff;
        m.state = State::waiting;
    }

    void attempt(Member& m) {
        errno = 0;
        const int rc = m.initialised ? mosquitto_reconnect_async(m.mosq)
                                     : mosquitto_connect_async(m.mosq, options.host.c_str(),
                                                               options.port, options.keepalive);
        if (rc == MOSQ_ERR_INVAL && !m.initialised) {
            set_fatal(Exit::usage, fmt::format("invalid options for broker {} (keepalive {} s?)",
                                               address, options.keepalive));
            m.state = State::closed;
            return;
        }
        m.initialised = true;
        m.state = State::connecting;
        if (rc == MOSQ_ERR_EAI)
            note_failure(m, fmt::format("cannot resolve host name '{}'", options.host));
        else if (rc != MOSQ_ERR_SUCCESS)
            settle(m, rc);
        watch(m, true);
        if (m.fd < 0 && m.state == State::connecting) // failed at once, no socket left
            closed(m);
    }

    void flush_dirty() {
        std::vector<std::size_t> batch;
        {
            std::lock_guard lock(mutex);
            batch.swap(dirty);
            for (std::size_t i : batch)
                members[i]->dirty = false;
        }
        for (std::size_t i : batch) {
            Member& m = *members[i];
            if (m.fd >= 0)
                settle(m, mosquitto_loop_write(m.mosq, 1));
        }
    }

    void start_closing() {
        closing_started = true;
        for (auto& mp : members) {
            Member& m = *mp;
            m.state = State::closed;
            if (m.fd < 0)
                continue;
            mosquitto_disconnect(m.mosq);
            settle(m, mosquitto_loop_write(m.mosq, 1));
        }
        changed.notify_all();
    }

    void housekeeping(Clock::time_point now, bool misc) {
        if (misc) { // keepalive: PINGREQ when due, and a connection without answer is closed
            for (auto& mp : members)
                if (mp->fd >= 0)
                    settle(*mp, mosquitto_loop_misc(mp->mosq));
        }
        std::size_t connecting = 0;
        for (auto& mp : members)
            if (mp->state == State::connecting)
                ++connecting;
        for (auto& mp : members) {
            if (connecting >= kMaxConnecting)
                break;
            Member& m = *mp;
            if (m.state == State::idle || (m.state == State::waiting && m.retry_at <= now)) {
                attempt(m);
                if (m.state == State::connecting)
                    ++connecting;
            }
        }
        report(connecting);
    }

    // One warning when connections are lost after all were up, one when all are back.
    void report(std::size_t connecting) {
        if (phase != Phase::running)
            return;
        const std::size_t up = ready_count;
        if (all_up_reported && up < members.size()) {
            all_up_reported = false;
            log.warn("lost connection to broker {}; reconnecting", address);
        } else if (!all_up_reported && up == members.size() && connecting == 0) {
            all_up_reported = true;
            log.warn("reconnected to broker {}", address);
        }
    }

    void run() {
        t_network_thread = true;
        std::vector<epoll_event> events(256);
        auto next_tick = Clock::now();
        auto next_misc = next_tick + std::chrono::seconds(1);
        while (!quit) {
            const auto until = std::max(next_tick - Clock::now(), Clock::duration::zero());
            const int timeout = static_cast<int>(std::chrono::ceil<milliseconds>(until).count());
            const int n = ::epoll_wait(epoll_fd.get(), events.data(),
                                       static_cast<int>(events.size()), timeout);
            if (n < 0 && errno != EINTR) {
                log.error("epoll_wait: {}", std::strerror(errno));
                std::this_thread::sleep_for(kTick);
            }
            for (int i = 0; i < n; ++i) {
                const epoll_event& ev = events[static_cast<std::size_t>(i)];
                if (ev.data.u64 == kWakeKey) {
                    std::uint64_t count = 0;
                    [[maybe_unused]] auto r = ::read(wake_fd.get(), &count, sizeof count);
                    continue;
                }
                Member& m = *members[ev.data.u64];
                if (m.fd < 0)
                    continue; // closed earlier in this batch
                if ((ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0)
                    settle(m, mosquitto_loop_read(m.mosq, 1));
                if ((ev.events & EPOLLOUT) != 0 && m.fd >= 0)
                    settle(m, mosquitto_loop_write(m.mosq, 1));
            }
            flush_dirty();
            if (phase == Phase::closing && !closing_started)
                start_closing();
            const auto now = Clock::now();
            if (now >= next_tick) {
                const bool misc = now >= next_misc;
                if (misc)
                    next_misc = now + std::chrono::seconds(1);
                if (phase == Phase::connecting || phase == Phase::running)
                    housekeeping(now, misc);
                next_tick = now + kTick;
            }
        }
    }
};

ClientGroup::ClientGroup(const core::BrokerOptions& options, const core::Logger& log)
    : m_impl(std::make_unique<Impl>(options, log)) {
    if (!options.clean_session && options.client_id.empty())
        throw Error(Exit::usage, "a persistent session (-c) needs a client id (-i)");
    lib_acquire();
}

ClientGroup::~ClientGroup() {
    try {
        disconnect(1000);
    } catch (...) { // NOLINT(bugprone-empty-catch): a destructor must not throw
    }
    for (auto& m : m_impl->members)
        mosquitto_destroy(m->mosq);
    lib_release();
}

std::size_t ClientGroup::add(const MemberOptions& member) {
    Impl& d = *m_impl;
    auto m = std::make_unique<Impl::Member>();
    m->group = &d;
    m->index = d.members.size();
    m->options = member;
    const char* id = member.client_id.empty() ? nullptr : member.client_id.c_str();
    m->mosq = mosquitto_new(id, d.options.clean_session, m.get());
    if (m->mosq == nullptr)
        throw Error(Exit::failure,
                    fmt::format("cannot create an MQTT client: {}", std::strerror(errno)));
    try {
        configure(m->mosq, d.options);
        // Packets are queued and our loop writes them. Hazard: libmosquitto still writes a byte per
        // packet into its internal socket pair, which only its own loop reads and the API does not
        // expose; the kernel stops that queue at the pair's buffer (about 100 KB per member).
        mosquitto_threaded_set(m->mosq, true);
        mosquitto_int_option(m->mosq, MOSQ_OPT_SEND_MAXIMUM, kMaxInflight);
        mosquitto_connect_callback_set(m->mosq, &Impl::on_connect_cb);
        mosquitto_disconnect_callback_set(m->mosq, &Impl::on_disconnect_cb);
        mosquitto_publish_callback_set(m->mosq, &Impl::on_publish_cb);
        mosquitto_message_callback_set(m->mosq, &Impl::on_message_cb);
        mosquitto_subscribe_callback_set(m->mosq, &Impl::on_subscribe_cb);
        // With a log callback libmosquitto formats a line for every packet (a malloc and a
        // vsnprintf each): only where its text is worth it, a TLS failure's reason or -v.
        if (d.options.tls() || d.log.enabled(core::Level::debug))
            mosquitto_log_callback_set(m->mosq, &Impl::on_log_cb);
        if (member.will) {
            const Will& w = *member.will;
            if (w.payload.size() > INT_MAX)
                throw Error(Exit::usage, "last will payload too large");
            const int rc =
                mosquitto_will_set(m->mosq, w.topic.c_str(), static_cast<int>(w.payload.size()),
                                   w.payload.data(), w.qos, w.retain);
            if (rc != MOSQ_ERR_SUCCESS)
                throw Error(Exit::usage, fmt::format("invalid last will on topic '{}': {}", w.topic,
                                                     mosquitto_strerror(rc)));
        }
        for (const auto& [filter, qos] : member.subscriptions)
            if (mosquitto_sub_topic_check(filter.c_str()) != MOSQ_ERR_SUCCESS)
                throw Error(Exit::usage, fmt::format("invalid topic filter '{}'", filter));
    } catch (...) {
        mosquitto_destroy(m->mosq);
        throw;
    }
    d.members.push_back(std::move(m));
    return d.members.size() - 1;
}

void ClientGroup::on_message(MessageHandler handler) {
    m_impl->message_handler = std::move(handler);
}

void ClientGroup::connect(int patience_ms) {
    Impl& d = *m_impl;
    if (d.phase != Phase::idle)
        return;
    ensure_descriptors(d.members.size());
    d.epoll_fd = FileDescriptor(::epoll_create1(EPOLL_CLOEXEC));
    d.wake_fd = FileDescriptor(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (d.epoll_fd.get() < 0 || d.wake_fd.get() < 0)
        throw Error(Exit::failure,
                    fmt::format("cannot set up the MQTT event loop: {}", std::strerror(errno)));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeKey;
    ::epoll_ctl(d.epoll_fd.get(), EPOLL_CTL_ADD, d.wake_fd.get(), &ev);

    patience_ms = std::max(patience_ms, 0);
    const auto deadline = Clock::now() + milliseconds(patience_ms);
    d.phase = Phase::connecting;
    d.thread = std::thread([&d] { d.run(); });

    std::unique_lock lock(d.mutex);
    for (;;) {
        if (d.fatal_code != 0)
            throw Error(static_cast<Exit>(d.fatal_code), d.fatal_message);
        if (d.ready_count == d.members.size()) {
            d.phase = Phase::running;
            return;
        }
        if (core::stop_requested())
            throw ExitRequest(0);
        if (Clock::now() >= deadline) {
            const std::size_t up = d.ready_count;
            std::string why = d.last_failure.empty() ? "no answer to CONNECT" : d.last_failure;
            if (up > 0)
                why += fmt::format(" ({} of {} clients connected)", up, d.members.size());
            throw Error(Exit::unavailable,
                        fmt::format("cannot reach broker {} after {} s: {}", d.address,
                                    format_seconds(patience_ms), why));
        }
        d.changed.wait_for(lock, milliseconds(50));
    }
}

void ClientGroup::publish(std::size_t member, std::string_view topic, std::string_view payload,
                          int qos, bool retain) {
    Impl& d = *m_impl;
    if (payload.size() > INT_MAX)
        throw Error(Exit::bad_input, "MQTT payload too large");
    Impl::Member& m = *d.members.at(member);
    if (!t_network_thread) {
        // Back-pressure. A stop request lets messages through so that the tool can finish.
        std::unique_lock lock(d.mutex);
        if (d.total_pending >= kGroupMaxPending)
            while (d.total_pending > kLowWater && !core::stop_requested())
                d.changed.wait_for(lock, milliseconds(100));
    }
    const std::string topic_z(topic);
    const int rc = d.publish_tracked(m, topic_z.c_str(), payload, qos, retain);
    if (rc == MOSQ_ERR_INVAL || rc == MOSQ_ERR_MALFORMED_UTF8)
        throw Error(Exit::usage, fmt::format("cannot publish to topic '{}': {}", topic_z,
                                             mosquitto_strerror(rc)));
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
        throw Error(Exit::failure, fmt::format("cannot publish to broker {}: {}", d.address,
                                               mosquitto_strerror(rc)));
}

bool ClientGroup::wait_published(int timeout_ms) {
    Impl& d = *m_impl;
    if (t_network_thread)
        return false;
    auto deadline = Clock::now() + milliseconds(std::max(timeout_ms, 0));
    bool stop_seen = false;
    std::unique_lock lock(d.mutex);
    for (;;) {
        if (d.total_pending == 0)
            return true;
        const auto now = Clock::now();
        if (!stop_seen && core::stop_requested()) {
            stop_seen = true;
            deadline = std::min(deadline, now + kStopGrace);
        }
        if (now >= deadline)
            return false;
        d.changed.wait_for(lock, std::min<Clock::duration>(deadline - now, milliseconds(100)));
    }
}

void ClientGroup::disconnect(int timeout_ms) {
    Impl& d = *m_impl;
    if (!d.thread.joinable())
        return;
    d.phase = Phase::closing;
    d.wake();
    {
        std::unique_lock lock(d.mutex);
        d.changed.wait_for(lock, milliseconds(std::max(timeout_ms, 0)),
                           [&] { return d.open_sockets == 0 && d.closing_started; });
    }
    d.quit = true;
    d.wake();
    d.thread.join();
    for (auto& m : d.members)
        d.set_ready(*m, false);
}

std::size_t ClientGroup::size() const noexcept {
    return m_impl->members.size();
}

bool ClientGroup::connected(std::size_t member) const noexcept {
    return member < m_impl->members.size() && m_impl->members[member]->ready;
}

std::size_t ClientGroup::unacknowledged() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->total_pending;
}

ClientCounters ClientGroup::counters() const noexcept {
    ClientCounters c;
    c.received = m_impl->received;
    c.published = m_impl->published;
    c.reconnects = m_impl->reconnects;
    c.dropped = m_impl->dropped;
    return c;
}

} // namespace iots::mqtt
