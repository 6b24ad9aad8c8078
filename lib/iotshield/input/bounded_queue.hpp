#pragma once
// Messages from the MQTT network thread to the thread that handles them. Bounded: when it is full
// the network thread waits, stops reading its socket, and the broker holds the flood (QoS 1
// queues), so memory stays flat. close() lets a blocked producer through, so that a disconnect can
// join its thread. Its consumer waits with pop_all(timeout), or polls fd() beside other
// descriptors (readable while something is queued).
#include "iotshield/core/error.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace iots::input {

template <typename T> class BoundedQueue {
public:
    explicit BoundedQueue(std::size_t capacity)
        : m_capacity(capacity == 0 ? 1 : capacity), m_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
        if (m_fd < 0)
            throw Error(Exit::failure, std::string("eventfd: ") + std::strerror(errno));
    }
    ~BoundedQueue() { ::close(m_fd); }
    BoundedQueue(const BoundedQueue&) = delete;
    BoundedQueue& operator=(const BoundedQueue&) = delete;

    // Blocks while full, unless closed (then it appends anyway: nothing is lost at shutdown).
    void push(T item) {
        std::unique_lock lock(m_mutex);
        m_not_full.wait(lock, [this] { return m_items.size() < m_capacity || m_closed; });
        if (m_items.empty()) {
            const std::uint64_t one = 1;
            [[maybe_unused]] const auto n = ::write(m_fd, &one, sizeof one);
        }
        m_items.push_back(std::move(item));
        lock.unlock();
        m_not_empty.notify_one();
    }

    // Moves everything queued into out (cleared first), waiting up to timeout for the first item.
    // Returns false on timeout.
    bool pop_all(std::vector<T>& out, std::chrono::milliseconds timeout) {
        out.clear();
        std::unique_lock lock(m_mutex);
        if (!m_not_empty.wait_for(lock, timeout, [this] { return !m_items.empty(); }))
            return false;
        for (auto& item : m_items)
            out.push_back(std::move(item));
        m_items.clear();
        std::uint64_t n = 0; // under the lock: fd() is readable exactly while items wait
        [[maybe_unused]] const auto r = ::read(m_fd, &n, sizeof n);
        lock.unlock();
        m_not_full.notify_all();
        return true;
    }

    [[nodiscard]] bool empty() const {
        std::lock_guard lock(m_mutex);
        return m_items.empty();
    }

    // Readable while something is queued.
    [[nodiscard]] int fd() const noexcept { return m_fd; }

    void close() {
        {
            std::lock_guard lock(m_mutex);
            m_closed = true;
        }
        m_not_full.notify_all();
    }

private:
    std::size_t m_capacity;
    int m_fd;
    mutable std::mutex m_mutex;
    std::condition_variable m_not_full, m_not_empty;
    std::deque<T> m_items;
    bool m_closed = false;
};

} // namespace iots::input
