#pragma once
// The bytes of one row of reading_chunks (schema.hpp): the readings of one series in one hour,
// in key order (ts, seq), column by column, every field exact. Layout (version 1), integers as
// LEB128 varints, signed ones zigzag-coded:
//   u8 version (1), varint n
//   ts     first: ts - start_ts; then delta-of-delta (readings every 5 s: one 0 byte each)
//   seq    first: seq; then delta-of-delta (seq < 0: stored without seq, schema.hpp)
//   value  a number column (below)
//   score  runs of present/absent (varint length, u8 0/1), then a number column of the present
//   anomaly runs (varint length, u8 0 NULL, 1 false, 2 true)
//   label, extra: a dictionary (varint count, then varint length + bytes each; entry 0 is NULL,
//          not stored) and runs (varint length, varint index)
// A number column is one mode byte, then n values: mode 0..9: every value is an integer m over
// 10^mode exactly (m / 10^mode gives back the same double, bit for bit), stored as zigzag deltas
// of m; mode 255: the double's bits XORed with the previous one's (Gorilla, byte-aligned): a
// header byte 0 (same as the previous) or 1 + 8 * leading zero bytes + trailing zero bytes,
// followed by the bytes between.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iots::store {

// Readings of a chunk are within one hour, aligned on the epoch: start_ts = ts - ts mod this.
inline constexpr std::int64_t kChunkMs = 3600000;

[[nodiscard]] constexpr std::int64_t chunk_start(std::int64_t ts) noexcept {
    const std::int64_t r = ts % kChunkMs;
    return r < 0 ? ts - r - kChunkMs : ts - r;
}

struct ChunkRow {
    std::int64_t ts = 0;
    std::int64_t seq = 0; // as stored: < 0 without seq
    double value = 0;
    std::optional<double> score;
    std::optional<bool> anomaly;
    std::optional<std::string> label;
    std::optional<std::string> extra;
};

// rows sorted by (ts, seq), keys distinct. Exact for every finite or non-finite double.
[[nodiscard]] std::string encode_chunk(std::int64_t start_ts, const std::vector<ChunkRow>& rows);

enum class ChunkFields {
    keys_values, // ts, seq, value (the rest left empty)
    all,
};

// Appends the chunk's rows to out. Throws Error (exit 1) naming the chunk on bytes that are not a
// chunk of this version.
void decode_chunk(std::int64_t start_ts, std::string_view bytes, std::vector<ChunkRow>& out,
                  ChunkFields fields = ChunkFields::all);

} // namespace iots::store
