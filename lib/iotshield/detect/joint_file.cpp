// The joint layer's state in the state file (joint.hpp, JointState::save and load).
#include "iotshield/detect/file_format.hpp"
#include "iotshield/detect/joint.hpp"

#include <bit>
#include <cstring>

namespace iots::detect {

namespace {
constexpr std::uint8_t kRowOpen = 1;
constexpr std::uint8_t kRowFlagged = 2;
constexpr std::uint8_t kEventActive = 4;

// Bytes of the layer after its names, for k channels.
constexpr std::size_t fixed_size(std::size_t k) {
    return 1 + 1 + 2 + 8 + 4 * 8 + k * 4 * 8 + k * (k + 1) / 2 * 8;
}

// Reads the fields of a layer whose size was checked beforehand.
class Cursor {
public:
    explicit Cursor(std::string_view bytes) : m_bytes(bytes) {}
    std::uint8_t u8() { return static_cast<std::uint8_t>(m_bytes[m_pos++]); }
    std::uint64_t u64() {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i)
            v |= static_cast<std::uint64_t>(u8()) << (8 * i);
        return v;
    }
    double f64() { return std::bit_cast<double>(u64()); } // bit for bit, as saved
    std::string_view raw(std::size_t n) {
        const std::string_view s = m_bytes.substr(m_pos, n);
        m_pos += n;
        return s;
    }
    [[nodiscard]] std::size_t left() const { return m_bytes.size() - m_pos; }

private:
    std::string_view m_bytes;
    std::size_t m_pos = 0;
};
} // namespace

void JointState::save(ByteWriter& w) const {
    const std::size_t k = m_channels;
    w.u8(static_cast<std::uint8_t>(k));
    for (std::size_t i = 0; i < k; ++i) {
        w.u8(m_name_size[i]);
        w.raw(std::string_view(m_names[i].data(), m_name_size[i]));
    }
    w.u8(static_cast<std::uint8_t>(m_pending));
    w.u8(static_cast<std::uint8_t>((m_row_open ? kRowOpen : 0) | (m_row_flagged ? kRowFlagged : 0) |
                                   (m_event.active ? kEventActive : 0)));
    w.u8(static_cast<std::uint8_t>(m_event.quiet & 0xFFU));
    w.u8(static_cast<std::uint8_t>(m_event.quiet >> 8));
    w.i64(m_row_ts);
    for (const double v : {m_interval, m_raise, m_evidence, m_weight})
        w.f64(v);
    for (std::size_t i = 0; i < k; ++i)
        for (const double v : {m_row[i], m_mean[i], m_prev[i], m_lag[i]})
            w.f64(v);
    for (std::size_t i = 0; i < k; ++i)
        for (std::size_t j = 0; j <= i; ++j)
            w.f64(m_cov[i][j]);
}

bool JointState::load(std::string_view bytes) {
    Cursor c(bytes);
    if (c.left() < 1)
        return false;
    const std::size_t k = c.u8();
    if (k > kJointChannels)
        return false;
    JointState s;
    s.m_channels = static_cast<std::uint32_t>(k);
    for (std::size_t i = 0; i < k; ++i) {
        if (c.left() < 1)
            return false;
        const std::size_t n = c.u8();
        if (n == 0 || n > kJointNameMax || c.left() < n)
            return false;
        std::memcpy(s.m_names[i].data(), c.raw(n).data(), n);
        s.m_name_size[i] = static_cast<std::uint8_t>(n);
    }
    if (c.left() != fixed_size(k))
        return false;
    s.m_pending = c.u8();
    if (s.m_pending >= (1U << k))
        return false;
    const std::uint8_t flags = c.u8();
    if ((flags & ~(kRowOpen | kRowFlagged | kEventActive)) != 0)
        return false;
    s.m_row_open = (flags & kRowOpen) != 0;
    s.m_row_flagged = (flags & kRowFlagged) != 0;
    s.m_event.active = (flags & kEventActive) != 0;
    const std::uint8_t lo = c.u8();
    s.m_event.quiet = static_cast<std::uint16_t>(lo | (c.u8() << 8));
    s.m_row_ts = static_cast<core::Millis>(c.u64());
    s.m_interval = c.f64();
    s.m_raise = c.f64();
    s.m_evidence = c.f64();
    s.m_weight = c.f64();
    for (std::size_t i = 0; i < k; ++i) {
        s.m_row[i] = c.f64();
        s.m_mean[i] = c.f64();
        s.m_prev[i] = c.f64();
        s.m_lag[i] = c.f64();
    }
    for (std::size_t i = 0; i < k; ++i)
        for (std::size_t j = 0; j <= i; ++j) {
            s.m_cov[i][j] = c.f64();
            s.m_cov[j][i] = s.m_cov[i][j];
        }
    if (!s.state_valid())
        return false;
    *this = s;
    return true;
}

} // namespace iots::detect
