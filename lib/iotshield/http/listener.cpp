#include "iotshield/http/listener.hpp"

#include "iotshield/core/error.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>

#include <array>
#include <atomic>
#include <chrono>
#include <list>
#include <map>

namespace iots::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// After a refused request: how much of what the client still sends is read and dropped, and for
// how long, before closing (closing with unread bytes resets the connection, and the client may
// lose the answer).
constexpr std::size_t kDrainBytes = 16 * 1024 * 1024;
constexpr milliseconds kDrainTime{1000};

bool is_parse_error(const beast::error_code& ec) {
    return ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
           ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

std::string chunk(std::string_view text) {
    return fmt::format("{:x}\r\n{}\r\n", text.size(), text);
}

} // namespace

class Connection;

struct Listener::Impl {
    ListenerLimits lim;
    Hooks hooks;
    EventHub& hub;

    // Socket thread only.
    std::map<std::string, int> per_client;
    int open = 0;
    std::list<std::weak_ptr<Connection>> live;
    std::list<std::weak_ptr<Connection>> subscribers;
    std::atomic<bool> pump_pending{false};

    // Declared after what the connections reach on destruction: destroying the io_context
    // destroys the connections its pending operations hold.
    asio::io_context io{1};
    tcp::acceptor acceptor{io};
    asio::steady_timer accept_retry{io};
    asio::steady_timer ticker{io};
    asio::thread_pool workers;

    Impl(ListenerLimits l, Hooks h, EventHub& e)
        : lim(l), hooks(std::move(h)), hub(e), workers(static_cast<std::size_t>(l.workers)) {}

    void accept();
    void admit(tcp::socket s);
    void pump_all();
    void tick();
};

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(Listener::Impl& l, tcp::socket s, std::string client, std::string local)
        : m_l(l), m_stream(std::move(s)), m_client(std::move(client)), m_local(std::move(local)) {}
    ~Connection() {
        m_l.live.erase(m_live_at);
        --m_l.open;
        if (const auto it = m_l.per_client.find(m_client);
            it != m_l.per_client.end() && --it->second <= 0)
            m_l.per_client.erase(it);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    std::list<std::weak_ptr<Connection>>::iterator m_live_at;

    void read_head() {
        m_parser.emplace();
        m_parser->header_limit(static_cast<std::uint32_t>(m_l.lim.head_bytes));
        m_parser->body_limit(m_l.lim.body_bytes);
        m_stream.expires_after(milliseconds(m_l.lim.head_timeout_ms));
        bhttp::async_read_header(
            m_stream, m_buf, *m_parser,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_head(ec); });
    }

    void close() {
        beast::error_code ec;
        m_stream.socket().shutdown(tcp::socket::shutdown_both, ec);
        m_stream.close();
    }

    // A live stream: the events it has not sent yet, unless a write is under way.
    void pump() {
        if (!m_events || m_writing)
            return;
        const auto events = m_l.hub.since(m_events->after);
        if (events.empty())
            return;
        std::string text;
        for (const auto& e : events) {
            text.append("id: ").append(std::to_string(e.seq)).append("\nevent: ");
            text.append(e.type).append("\ndata: ").append(e.data).append("\n\n");
            m_events->after = e.seq;
        }
        send_chunk(text);
    }

    void keep_alive(Clock::time_point now) {
        if (m_events && !m_writing &&
            now - m_last_write >= milliseconds(m_l.lim.stream_keep_alive_ms))
            send_chunk(": keep-alive\n\n");
    }

private:
    void on_head(beast::error_code ec) {
        if (ec == bhttp::error::header_limit)
            return refuse(431, fmt::format("request head too large: at most {} KiB of request "
                                           "line and headers",
                                           m_l.lim.head_bytes / 1024));
        if (ec && ec != bhttp::error::body_limit) {
            if (is_parse_error(ec))
                return refuse(400, "bad request: " + ec.message());
            return close(); // gone, reset, or too slow to send its head
        }
        fill_request();
        if (!parse_target(m_req.target, m_req))
            return refuse(400, "bad request: malformed request target");
        if (auto r = m_l.hooks.screen(m_req))
            return answer(std::move(*r), true);
        if (ec == bhttp::error::body_limit) // a Content-Length above the limit
            return too_large();
        if (m_parser->is_done())
            return dispatch();
        if (m_parser->get()[bhttp::field::expect] == "100-continue") {
            m_out = "HTTP/1.1 100 Continue\r\n\r\n";
            m_stream.expires_after(milliseconds(m_l.lim.write_timeout_ms));
            asio::async_write(m_stream, asio::buffer(m_out),
                              [self = shared_from_this()](beast::error_code e, std::size_t) {
                                  if (e)
                                      return self->close();
                                  self->read_body();
                              });
            return;
        }
        read_body();
    }

    void fill_request() {
        const auto& h = m_parser->get();
        m_req = Request{};
        m_req.method = std::string(h.method_string());
        m_req.target = std::string(h.target());
        for (const auto& f : h)
            m_req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        m_req.remote_addr = m_client;
        m_req.local_addr = m_local;
        m_keep_alive = h.keep_alive();
        m_head_only = h.method() == bhttp::verb::head;
    }

    void read_body() {
        m_stream.expires_after(milliseconds(m_l.lim.body_timeout_ms));
        bhttp::async_read(
            m_stream, m_buf, *m_parser,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
    }

    void on_body(beast::error_code ec) {
        if (ec == bhttp::error::body_limit)
            return too_large();
        if (ec) {
            if (is_parse_error(ec))
                return refuse(400, "bad request: " + ec.message());
            return close();
        }
        m_req.body = std::move(m_parser->get().body());
        dispatch();
    }

    void too_large() {
        refuse(413,
               fmt::format("request body too large: at most {} KiB", m_l.lim.body_bytes / 1024));
    }

    void refuse(int status, const std::string& message) {
        m_head_only = false;
        answer(m_l.hooks.error(status, message), true);
    }

    void dispatch() {
        m_parser.reset();
        m_stream.expires_never();
        asio::post(m_l.workers, [self = shared_from_this(), req = std::move(m_req)]() mutable {
            Response r;
            try {
                r = self->m_l.hooks.handle(req);
            } catch (const std::exception&) {
                r = self->m_l.hooks.error(500, "internal error");
            }
            // The worker keeps no reference: the connection is destroyed on the socket thread.
            auto& io = self->m_l.io;
            asio::post(io, [self = std::move(self), r = std::move(r)]() mutable {
                self->answer(std::move(r), !self->m_keep_alive);
            });
        });
    }

    // Writes an answer; then the next request, the stream, or (close) the lingering close.
    void answer(Response r, bool close_after) {
        m_parser.reset();
        m_res = std::move(r);
        m_close = close_after || m_res.stream.has_value();
        const auto reason =
            bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(m_res.status)));
        std::string& h = m_out_head;
        h = fmt::format("HTTP/1.1 {} {}\r\n", m_res.status,
                        std::string_view(reason.data(), reason.size()));
        const auto add = [&h](std::string_view name, std::string_view value) {
            h.append(name).append(": ").append(value).append("\r\n");
        };
        for (const auto& [k, v] : m_l.hooks.default_headers)
            if (!m_res.has_header(k))
                add(k, v);
        for (const auto& [k, v] : m_res.headers)
            add(k, v);
        std::string_view body = m_res.body.empty() ? m_res.fixed_body : m_res.body;
        if (m_res.stream) {
            add("Transfer-Encoding", "chunked");
            m_out = chunk(m_res.stream->first);
            body = m_out;
        } else if (m_res.status != 304 && m_res.status != 204) {
            add("Content-Length", std::to_string(body.size()));
        }
        add("Connection", m_close ? "close" : "keep-alive");
        h.append("\r\n");
        if (m_head_only)
            body = {};
        const std::array<asio::const_buffer, 2> bufs{asio::buffer(m_out_head),
                                                     asio::buffer(body.data(), body.size())};
        m_stream.expires_after(milliseconds(m_l.lim.write_timeout_ms));
        asio::async_write(
            m_stream, bufs,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->written(ec); });
    }

    void written(beast::error_code ec) {
        if (ec)
            return close();
        if (m_res.stream) {
            m_events = std::move(m_res.stream);
            m_res = Response{};
            m_last_write = Clock::now();
            m_l.subscribers.push_back(weak_from_this());
            watch_for_end();
            pump();
            return;
        }
        m_res = Response{};
        if (m_close)
            return linger();
        read_head();
    }

    // Stop sending, then read and drop what the client still sends, bounded in time and size.
    void linger() {
        beast::error_code ec;
        m_stream.socket().shutdown(tcp::socket::shutdown_send, ec);
        m_stream.expires_after(kDrainTime);
        drain();
    }
    void drain() {
        m_stream.async_read_some(asio::buffer(m_drop),
                                 [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                     self->m_dropped += n;
                                     if (ec || self->m_dropped >= kDrainBytes)
                                         return self->close();
                                     self->drain();
                                 });
    }

    // A live stream's client says nothing more; reading tells when it has gone.
    void watch_for_end() {
        m_stream.expires_never();
        m_stream.async_read_some(asio::buffer(m_drop),
                                 [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                     if (ec)
                                         return self->close();
                                     self->watch_for_end();
                                 });
    }

    void send_chunk(std::string_view text) {
        m_out = chunk(text);
        m_writing = true;
        m_last_write = Clock::now();
        // A client that does not take what is written within the timeout is dropped, so a slow
        // one holds one buffer for a bounded time.
        m_stream.expires_after(milliseconds(m_l.lim.write_timeout_ms));
        asio::async_write(m_stream, asio::buffer(m_out),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              self->m_writing = false;
                              if (ec)
                                  return self->close();
                              self->pump();
                          });
    }

    Listener::Impl& m_l;
    beast::tcp_stream m_stream;
    beast::flat_buffer m_buf;
    std::optional<bhttp::request_parser<bhttp::string_body>> m_parser;
    std::string m_client;
    std::string m_local;
    Request m_req;
    bool m_keep_alive = false;
    bool m_head_only = false;
    Response m_res;
    bool m_close = false;
    std::string m_out_head;
    std::string m_out;
    std::optional<EventStream> m_events;
    bool m_writing = false;
    Clock::time_point m_last_write;
    std::array<char, 16384> m_drop{};
    std::size_t m_dropped = 0;
};

void Listener::Impl::accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket s) {
        if (!acceptor.is_open())
            return;
        if (ec) { // out of descriptors, most likely: try again shortly
            accept_retry.expires_after(milliseconds(100));
            accept_retry.async_wait([this](beast::error_code e) {
                if (!e)
                    accept();
            });
            return;
        }
        admit(std::move(s));
        accept();
    });
}

void Listener::Impl::admit(tcp::socket s) {
    beast::error_code ec;
    const auto remote = s.remote_endpoint(ec);
    if (ec)
        return;
    const auto local = s.local_endpoint(ec);
    if (ec)
        return;
    auto client = remote.address().to_string();
    auto& mine = per_client[client];
    if (open >= lim.max_connections || mine >= lim.max_connections_per_client) {
        if (mine == 0)
            per_client.erase(client);
        s.close(ec);
        return;
    }
    ++mine;
    ++open;
    s.set_option(tcp::no_delay(true), ec); // a small answer must not wait for a delayed ACK
    auto c = std::make_shared<Connection>(*this, std::move(s), client, local.address().to_string());
    live.push_front(c);
    c->m_live_at = live.begin();
    c->read_head();
}

void Listener::Impl::pump_all() {
    pump_pending = false;
    for (auto it = subscribers.begin(); it != subscribers.end();) {
        if (auto c = it->lock()) {
            c->pump();
            ++it;
        } else {
            it = subscribers.erase(it);
        }
    }
}

void Listener::Impl::tick() {
    const auto now = Clock::now();
    for (auto it = subscribers.begin(); it != subscribers.end();) {
        if (auto c = it->lock()) {
            c->keep_alive(now);
            ++it;
        } else {
            it = subscribers.erase(it);
        }
    }
    ticker.expires_after(milliseconds(std::max(100, lim.stream_keep_alive_ms / 4)));
    ticker.async_wait([this](beast::error_code ec) {
        if (!ec)
            tick();
    });
}

Listener::Listener(ListenerLimits limits, Hooks hooks, EventHub& hub)
    : m_impl(std::make_unique<Impl>(limits, std::move(hooks), hub)) {
    auto* impl = m_impl.get();
    hub.set_on_publish([impl] {
        if (!impl->pump_pending.exchange(true))
            asio::post(impl->io, [impl] { impl->pump_all(); });
    });
}

Listener::~Listener() {
    m_impl->hub.set_on_publish(nullptr);
    stop();
    m_impl->workers.join();
}

int Listener::bind(const std::string& host, int port) {
    auto& i = *m_impl;
    const auto fail = [&] {
        return Error(Exit::unavailable, "cannot listen on " + host + ":" + std::to_string(port) +
                                            " (in use, or not an address of this machine)");
    };
    beast::error_code ec;
    tcp::resolver resolver(i.io);
    const auto found = resolver.resolve(
        host, std::to_string(port), tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || found.empty())
        throw fail();
    const auto ep = found.begin()->endpoint();
    i.acceptor.open(ep.protocol(), ec);
    if (ec)
        throw fail();
    // SO_REUSEADDR only (no SO_REUSEPORT): a port in use is an error, not shared silently.
    i.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    i.acceptor.bind(ep, ec);
    if (!ec)
        i.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        i.acceptor.close(ec);
        throw fail();
    }
    return i.acceptor.local_endpoint().port();
}

void Listener::run() {
    auto& i = *m_impl;
    i.accept();
    i.tick();
    i.io.run();
    beast::error_code ec;
    i.acceptor.close(ec);
    const auto all = i.live;
    for (const auto& w : all)
        if (auto c = w.lock())
            c->close();
    i.workers.join(); // handlers under way finish; their answers are not written
}

void Listener::stop() {
    m_impl->io.stop();
}

} // namespace iots::http
