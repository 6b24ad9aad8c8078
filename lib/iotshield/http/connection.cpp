#include "iotshield/http/connection.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>

namespace iots::http {

namespace {

int to_ms(time_t sec, time_t usec) {
    return static_cast<int>(sec * 1000 + usec / 1000);
}

// Whether `events` is ready on `fd` within `ms` milliseconds.
bool ready(int fd, short events, int ms) {
    pollfd p{fd, events, 0};
    int n = 0;
    do {
        n = ::poll(&p, 1, ms);
    } while (n < 0 && errno == EINTR);
    return n > 0;
}

void address_of(const sockaddr_storage& a, socklen_t len, std::string& ip, int& port) {
    std::array<char, NI_MAXHOST> host{};
    std::array<char, NI_MAXSERV> serv{};
    if (::getnameinfo(reinterpret_cast<const sockaddr*>(&a), len, host.data(), host.size(),
                      serv.data(), serv.size(), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
        ip = host.data();
        port = std::atoi(serv.data());
    }
}

// A connected socket as cpp-httplib's Stream, reading through a buffer (its line reader asks for
// one byte at a time).
class SocketStream final : public httplib::Stream {
public:
    SocketStream(int fd, int read_ms, int write_ms)
        : m_fd(fd), m_read_ms(read_ms), m_write_ms(write_ms) {}

    bool is_readable() const override { return has_input(m_read_ms); }
    // Bytes buffered or arriving within `ms` (or the end of the connection).
    [[nodiscard]] bool has_input(int ms) const { return m_off < m_len || ready(m_fd, POLLIN, ms); }
    bool is_writable() const override {
        if (!ready(m_fd, POLLOUT, m_write_ms))
            return false;
        // A client that went away: readable with nothing to read (a live stream notices here).
        if (!ready(m_fd, POLLIN, 0))
            return true;
        char b = 0;
        return ::recv(m_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
    }
    // Bytes one request may take, head and body: cpp-httplib 0.11 bounds neither the number of
    // header lines nor a chunked body, and keeps both in memory.
    void set_budget(std::size_t bytes) noexcept {
        m_budget = bytes;
        m_exhausted = false;
    }
    [[nodiscard]] bool exhausted() const noexcept { return m_exhausted; }

    ssize_t read(char* ptr, size_t size) override {
        if (m_budget == 0) {
            m_exhausted = true;
            return -1;
        }
        const auto n = read_some(ptr, std::min(size, m_budget));
        if (n > 0)
            m_budget -= static_cast<std::size_t>(n);
        return n;
    }
    ssize_t write(const char* ptr, size_t size) override {
        if (!ready(m_fd, POLLOUT, m_write_ms))
            return -1;
        ssize_t n = 0;
        do {
            n = ::send(m_fd, ptr, size, MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        return n;
    }
    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage a{};
        socklen_t len = sizeof a;
        if (::getpeername(m_fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
            address_of(a, len, ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage a{};
        socklen_t len = sizeof a;
        if (::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
            address_of(a, len, ip, port);
    }
    socket_t socket() const override { return m_fd; }

private:
    // Through the buffer.
    ssize_t read_some(char* ptr, size_t size) {
        if (m_off < m_len) {
            const auto n = std::min(size, m_len - m_off);
            std::memcpy(ptr, m_buf.data() + m_off, n);
            m_off += n;
            return static_cast<ssize_t>(n);
        }
        if (!is_readable())
            return -1;
        if (size >= m_buf.size())
            return recv_some(ptr, size);
        const auto n = recv_some(m_buf.data(), m_buf.size());
        if (n <= 0)
            return n;
        m_len = static_cast<std::size_t>(n);
        m_off = std::min(size, m_len);
        std::memcpy(ptr, m_buf.data(), m_off);
        return static_cast<ssize_t>(m_off);
    }
    ssize_t recv_some(char* ptr, std::size_t size) const {
        ssize_t n = 0;
        do {
            n = ::recv(m_fd, ptr, size, 0);
        } while (n < 0 && errno == EINTR);
        return n;
    }

    int m_fd;
    int m_read_ms;
    int m_write_ms;
    std::array<char, 4096> m_buf{};
    std::size_t m_off = 0;
    std::size_t m_len = 0;
    std::size_t m_budget = 0;
    bool m_exhausted = false;
};

constexpr std::size_t kRequestBudget = 256 * 1024; // head and body; bodies are at most 64 KiB

} // namespace

bool GuardedServer::process_and_close_socket(socket_t sock) {
    SocketStream strm(sock, to_ms(read_timeout_sec_, read_timeout_usec_),
                      to_ms(write_timeout_sec_, write_timeout_usec_));
    const auto idle_limit = std::chrono::seconds(keep_alive_timeout_sec_);
    bool ok = false;
    bool close_after = false;
    for (std::size_t left = keep_alive_max_count_; left > 0 && !close_after; --left) {
        // Wait for the next request in short steps, so a stopping server ends idle connections.
        const auto idle_since = std::chrono::steady_clock::now();
        bool next = false;
        while (svr_sock_ != INVALID_SOCKET && !(next = strm.has_input(100)) &&
               std::chrono::steady_clock::now() - idle_since < idle_limit) {
        }
        if (!next || svr_sock_ == INVALID_SOCKET)
            break;
        bool closed = false;
        bool parsed = false; // cpp-httplib calls the hook only for a head it could parse
        strm.set_budget(kRequestBudget);
        ok = process_request(strm, left == 1, closed, [&](httplib::Request& req) {
            parsed = true;
            if (must_close && must_close(req)) {
                close_after = true;
                req.headers.erase("Connection"); // so the answer says "Connection: close"
                req.headers.emplace("Connection", "close");
            }
        });
        // After a head it could not parse (400, 414) or a request past its budget, the bytes that
        // follow are the rest of that request, not a next one.
        if (!parsed || strm.exhausted())
            close_after = true;
        if (!ok || closed)
            break;
    }
    if (close_after) {
        // Lingering close: stop sending, then read and drop what the client still sends for a
        // moment, so closing with unread bytes does not reset the connection before the client
        // has read the answer. Bounded in time and size.
        ::shutdown(sock, SHUT_WR);
        std::array<char, 16384> drop{};
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        for (std::size_t total = 0; total < 16 * 1024 * 1024 && svr_sock_ != INVALID_SOCKET &&
                                    std::chrono::steady_clock::now() < until;) {
            if (!ready(sock, POLLIN, 100))
                continue;
            const auto n = ::recv(sock, drop.data(), drop.size(), 0);
            if (n <= 0)
                break;
            total += static_cast<std::size_t>(n);
        }
    } else {
        ::shutdown(sock, SHUT_RDWR);
    }
    ::close(sock);
    return ok;
}

} // namespace iots::http
