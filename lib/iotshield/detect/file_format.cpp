#include "iotshield/detect/file_format.hpp"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace iots::detect {

namespace {
constexpr std::size_t kHeader = 20;

std::string errno_text(int e) {
    return std::strerror(e);
}

// Closes at scope exit (errors of a read-only or already failed descriptor do not matter).
struct Fd {
    int fd;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd >= 0)
            ::close(fd);
    }
};
} // namespace

std::uint32_t crc32(std::string_view bytes) noexcept {
    // Slicing by 8 (eight bytes a step, eight tables; the same CRC as bit by bit): a model file is
    // tens of MB, and its checksum is verified at every start of iots-detect.
    static const auto kTables = [] {
        std::array<std::array<std::uint32_t, 256>, 8> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k)
                c = (c & 1U) != 0 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
            t[0][i] = c;
        }
        for (std::size_t k = 1; k < 8; ++k)
            for (std::size_t i = 0; i < 256; ++i)
                t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFFU];
        return t;
    }();
    const auto& t = kTables;
    const char* p = bytes.data();
    std::size_t n = bytes.size();
    const auto byte = [](char ch) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(ch));
    };
    const auto le32 = [&](const char* q) {
        return byte(q[0]) | byte(q[1]) << 8 | byte(q[2]) << 16 | byte(q[3]) << 24;
    };
    std::uint32_t c = 0xFFFFFFFFU;
    for (; n >= 8; p += 8, n -= 8) {
        const std::uint32_t lo = c ^ le32(p);
        const std::uint32_t hi = le32(p + 4);
        c = t[7][lo & 0xFFU] ^ t[6][(lo >> 8) & 0xFFU] ^ t[5][(lo >> 16) & 0xFFU] ^ t[4][lo >> 24] ^
            t[3][hi & 0xFFU] ^ t[2][(hi >> 8) & 0xFFU] ^ t[1][(hi >> 16) & 0xFFU] ^ t[0][hi >> 24];
    }
    for (; n > 0; ++p, --n)
        c = t[0][(c ^ byte(*p)) & 0xFFU] ^ (c >> 8);
    return c ^ 0xFFFFFFFFU;
}

void ByteWriter::u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        u8(static_cast<std::uint8_t>(v >> (8 * i)));
}
void ByteWriter::u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i)
        u8(static_cast<std::uint8_t>(v >> (8 * i)));
}
void ByteWriter::f64(double v) {
    u64(std::bit_cast<std::uint64_t>(v));
}
void ByteWriter::f32(float v) {
    u32(std::bit_cast<std::uint32_t>(v));
}
void ByteWriter::str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    m_out.append(s);
}

void ByteReader::fail(const std::string& what) const {
    throw Error(Exit::no_input, fmt::format("{} {}: {}", m_kind, m_name, what));
}
void ByteReader::need(std::size_t n, std::string_view field) const {
    if (m_bytes.size() - m_pos < n)
        fail(fmt::format("corrupt: {} runs past the end of the payload", field));
}
std::uint8_t ByteReader::u8(std::string_view field) {
    need(1, field);
    return static_cast<std::uint8_t>(m_bytes[m_pos++]);
}
std::uint32_t ByteReader::u32(std::string_view field) {
    need(4, field);
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
        v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(m_bytes[m_pos++])) << (8 * i);
    return v;
}
std::uint64_t ByteReader::u64(std::string_view field) {
    need(8, field);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(m_bytes[m_pos++])) << (8 * i);
    return v;
}
double ByteReader::f64(std::string_view field) {
    const double v = std::bit_cast<double>(u64(field));
    if (!std::isfinite(v))
        fail(fmt::format("corrupt: {} is not a finite number", field));
    return v;
}
float ByteReader::f32(std::string_view field) {
    const float v = std::bit_cast<float>(u32(field));
    if (!std::isfinite(v))
        fail(fmt::format("corrupt: {} is not a finite number", field));
    return v;
}
std::string ByteReader::str(std::string_view field, std::uint32_t max_size) {
    const std::uint32_t n = u32(field);
    if (n > max_size)
        fail(fmt::format("corrupt: {} is {} bytes long (at most {})", field, n, max_size));
    need(n, field);
    std::string s(m_bytes.substr(m_pos, n));
    m_pos += n;
    return s;
}
std::string_view ByteReader::raw(std::size_t n, std::string_view field) {
    need(n, field);
    auto s = m_bytes.substr(m_pos, n);
    m_pos += n;
    return s;
}

std::string frame(std::string_view magic, std::uint32_t version, std::string_view payload) {
    ByteWriter w;
    w.out().reserve(kHeader + payload.size() + 4);
    w.raw(magic);
    w.u32(version);
    w.u64(payload.size());
    w.raw(payload);
    w.u32(crc32(w.out()));
    return std::move(w.out());
}

std::string_view unframe(std::string_view bytes, std::string_view magic, std::uint32_t version,
                         std::string_view kind, std::string_view name) {
    return unframe(bytes, magic, version, version, kind, name, nullptr);
}

std::string_view unframe(std::string_view bytes, std::string_view magic, std::uint32_t first,
                         std::uint32_t version, std::string_view kind, std::string_view name,
                         std::uint32_t* found_version) {
    const ByteReader header(bytes, kind, name);
    if (bytes.empty())
        header.fail("empty file");
    if (bytes.size() < magic.size() || bytes.substr(0, magic.size()) != magic)
        header.fail(fmt::format("not an IoTShield {} file (bad magic)", kind));
    if (bytes.size() < kHeader)
        header.fail(
            fmt::format("truncated: {} bytes, the header alone is {}", bytes.size(), kHeader));
    ByteReader h(bytes.substr(magic.size()), kind, name);
    const std::uint32_t found = h.u32("version");
    if (found < first || found > version) {
        if (first == version)
            header.fail(
                fmt::format("format version {} is not supported (this build reads version {})",
                            found, version));
        header.fail(fmt::format("format version {} is not supported (this build reads versions {} "
                                "to {})",
                                found, first, version));
    }
    if (found_version != nullptr)
        *found_version = found;
    const std::uint64_t length = h.u64("length");
    const std::uint64_t expected = kHeader + length + 4;
    if (length > bytes.size() || bytes.size() < expected)
        header.fail(fmt::format("truncated: {} of {} bytes", bytes.size(),
                                length > (1ULL << 40) ? 0 : expected));
    if (bytes.size() > expected)
        header.fail(
            fmt::format("{} bytes of trailing data after the checksum", bytes.size() - expected));
    const auto body = bytes.substr(0, static_cast<std::size_t>(kHeader + length));
    ByteReader tail(bytes.substr(body.size()), kind, name);
    const std::uint32_t stored = tail.u32("checksum");
    const std::uint32_t computed = crc32(body);
    if (stored != computed)
        header.fail(fmt::format("checksum mismatch (stored {:08x}, computed {:08x}): the file is "
                                "corrupt",
                                stored, computed));
    return body.substr(kHeader);
}

std::string read_fd(int fd, std::size_t hint, std::string_view kind, std::string_view name) {
    // One byte more than the hint shows whether the file grew meanwhile.
    std::string bytes(hint > 0 ? hint + 1 : std::size_t{65536}, '\0');
    std::size_t size = 0;
    for (;;) {
        if (size == bytes.size())
            bytes.resize(bytes.size() * 2);
        const ssize_t n = ::read(fd, bytes.data() + size, bytes.size() - size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw Error(Exit::no_input, fmt::format("{} {}: {}", kind, name, errno_text(errno)));
        if (n == 0)
            break;
        size += static_cast<std::size_t>(n);
    }
    bytes.resize(size);
    return bytes;
}

std::optional<std::string> read_file(const std::string& path, std::string_view kind,
                                     bool missing_ok) {
    const Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (f.fd < 0) {
        if (missing_ok && errno == ENOENT)
            return std::nullopt;
        throw Error(Exit::no_input, fmt::format("{} {}: {}", kind, path, errno_text(errno)));
    }
    struct stat st {};
    const bool regular = ::fstat(f.fd, &st) == 0 && S_ISREG(st.st_mode);
    return read_fd(f.fd, regular ? static_cast<std::size_t>(st.st_size) : 0, kind, path);
}

void write_file_atomic(const std::string& path, std::string_view bytes, std::string_view kind) {
    const std::string tmp = path + ".tmp";
    const auto failed = [&](const std::string& file, int e) {
        ::unlink(tmp.c_str());
        return Error(Exit::io_error, fmt::format("{} {}: {}", kind, file, errno_text(e)));
    };
    // Owner-only, like the database: models and state say at which hours each room is occupied.
    Fd f(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (f.fd < 0)
        throw Error(errno == EACCES ? Exit::permission : Exit::io_error,
                    fmt::format("{} {}: {}", kind, tmp, errno_text(errno)));
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(f.fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw failed(tmp, errno);
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(f.fd) != 0)
        throw failed(tmp, errno);
    const int fd = f.fd;
    f.fd = -1;
    if (::close(fd) != 0)
        throw failed(tmp, errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        throw failed(path, errno);
    // The rename itself is durable only once the directory is.
    const auto slash = path.rfind('/');
    const std::string dir =
        slash == std::string::npos ? std::string(".") : path.substr(0, slash == 0 ? 1 : slash);
    const Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d.fd < 0 || ::fsync(d.fd) != 0)
        throw Error(Exit::io_error,
                    fmt::format("{} {}: directory {}: {}", kind, path, dir, errno_text(errno)));
}

} // namespace iots::detect
