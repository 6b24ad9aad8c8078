#include "iotshield/privacy/random.hpp"

#include "iotshield/core/error.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace iots::privacy {

std::uint64_t SystemRandom::next() {
    if (m_left == 0) {
        auto* p = reinterpret_cast<unsigned char*>(m_buf.data());
        std::size_t want = sizeof m_buf;
        while (want > 0) {
            const ssize_t got = ::getrandom(p, want, 0);
            if (got < 0) {
                if (errno == EINTR)
                    continue;
                throw Error(Exit::failure, std::string("getrandom: ") + std::strerror(errno));
            }
            p += got;
            want -= static_cast<std::size_t>(got);
        }
        m_left = m_buf.size();
    }
    return m_buf[--m_left];
}

namespace {
std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}
} // namespace

SeededRandom::SeededRandom(std::uint64_t seed) {
    for (auto& s : m_s)
        s = splitmix64(seed);
}

std::uint64_t SeededRandom::next() {
    const std::uint64_t result = rotl(m_s[1] * 5, 7) * 9;
    const std::uint64_t t = m_s[1] << 17;
    m_s[2] ^= m_s[0];
    m_s[3] ^= m_s[1];
    m_s[1] ^= m_s[2];
    m_s[0] ^= m_s[3];
    m_s[2] ^= t;
    m_s[3] = rotl(m_s[3], 45);
    return result;
}

} // namespace iots::privacy
