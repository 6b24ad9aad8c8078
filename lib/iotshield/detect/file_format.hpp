#pragma once
// What the model file and the state file share: explicit little-endian fields, one frame
//
//   0  magic                  8 bytes ("IOTSMODL", "IOTSSTAT")
//   8  format version         u32
//  12  payload length L       u64
//  20  payload                L bytes
//  20+L CRC-32 (IEEE 802.3)   u32 over bytes [0, 20+L)
//
// and atomic replacement on disk. Every failure to read is iots::Error(Exit::no_input) whose
// message starts "<kind> <name>: " (kind "model" or "state", name usually the path).
#include "iotshield/core/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iots::detect {

[[nodiscard]] std::uint32_t crc32(std::string_view bytes) noexcept;

class ByteWriter {
public:
    void u8(std::uint8_t v) { m_out.push_back(static_cast<char>(v)); }
    void u32(std::uint32_t v);
    void u64(std::uint64_t v);
    void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
    void f64(double v);
    void f32(float v);
    void str(std::string_view s); // u32 length, bytes
    void raw(std::string_view s) { m_out.append(s); }
    std::string& out() { return m_out; }

private:
    std::string m_out;
};

class ByteReader {
public:
    ByteReader(std::string_view bytes, std::string_view kind, std::string_view name)
        : m_bytes(bytes), m_kind(kind), m_name(name) {}

    // Error(no_input, "<kind> <name>: <what>").
    [[noreturn]] void fail(const std::string& what) const;
    void need(std::size_t n, std::string_view field) const;
    std::uint8_t u8(std::string_view field);
    std::uint32_t u32(std::string_view field);
    std::uint64_t u64(std::string_view field);
    std::int64_t i64(std::string_view field) { return static_cast<std::int64_t>(u64(field)); }
    double f64(std::string_view field); // finite, or fail
    float f32(std::string_view field);  // finite, or fail
    std::string str(std::string_view field, std::uint32_t max_size = 64);
    std::string_view raw(std::size_t n, std::string_view field);
    [[nodiscard]] bool done() const { return m_pos == m_bytes.size(); }
    [[nodiscard]] std::size_t left() const { return m_bytes.size() - m_pos; }

private:
    std::string_view m_bytes;
    std::string_view m_kind;
    std::string_view m_name;
    std::size_t m_pos = 0;
};

// magic (8 bytes), version, length, payload, checksum.
[[nodiscard]] std::string frame(std::string_view magic, std::uint32_t version,
                                std::string_view payload);
// The payload of a framed file, after checking magic, size, version and checksum; every failure
// names what is wrong ("not an IoTShield state file (bad magic)", "truncated: 100 of 2321 bytes",
// "checksum mismatch ...", "format version 9 is not supported ...").
[[nodiscard]] std::string_view unframe(std::string_view bytes, std::string_view magic,
                                       std::uint32_t version, std::string_view kind,
                                       std::string_view name);
// The same for a reader of versions first..version; *found_version receives the file's.
[[nodiscard]] std::string_view unframe(std::string_view bytes, std::string_view magic,
                                       std::uint32_t first, std::uint32_t version,
                                       std::string_view kind, std::string_view name,
                                       std::uint32_t* found_version);

// All bytes from fd (not closed here); `hint`, the expected size, saves copies. Read errors are
// Error(no_input) naming `name`.
[[nodiscard]] std::string read_fd(int fd, std::size_t hint, std::string_view kind,
                                  std::string_view name);
// All bytes of a file; nullopt when it does not exist and missing_ok. Error(no_input) otherwise.
[[nodiscard]] std::optional<std::string> read_file(const std::string& path, std::string_view kind,
                                                   bool missing_ok = false);
// Replaces path atomically and durably: a temporary file beside it (mode 0600), write, fsync,
// rename, fsync of the directory. On failure the old file stays and the temporary is removed;
// Error(io_error), or Error(permission) when the temporary cannot be created for its mode.
void write_file_atomic(const std::string& path, std::string_view bytes, std::string_view kind);

} // namespace iots::detect
