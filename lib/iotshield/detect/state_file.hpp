#pragma once
// The state file of iots-detect: what the detector has learnt from the stream, per series and per
// device, so that a restart or an upgrade resumes where it was. The frame of file_format.hpp with
// magic "IOTSSTAT" and version kStateFormatVersion around
//
//   i64 written_at              the writer's wall clock, ms since the epoch
//   u8  byte order of layers    1 little-endian, 2 big-endian
//   u32 series count, then per series: str device, str sensor, chunks
//   u32 device count, then per device: str device, chunks
//   chunks: u32 count, then per chunk: str tag, u32 version, u64 size, size bytes
//
// A layer (the streaming state, the profile's, ...) is one chunk: the raw bytes of its trivially
// copyable state struct, whose kStateVersion is the chunk's version (the devices' joint layer, of
// a size that follows its channels, has a layout of its own: JointState::save). Loading skips a
// chunk of an unknown tag and drops one whose version, size or byte order differ from this build's
// (that layer starts afresh); each such case is one line of StateInfo::notes. Only a damaged or
// foreign file (bad magic, checksum, truncation, a layer holding an impossible state) is an error:
// Error(Exit::no_input) naming the file. Model pointers and levels are not saved: they come from
// the model the detector was built with.
#include "iotshield/core/time.hpp"
#include "iotshield/detect/detector.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iots::detect {

inline constexpr std::uint32_t kStateFormatVersion = 1;

struct StateInfo {
    core::Millis written_at = 0;
    std::size_t series = 0;
    std::size_t devices = 0;
    std::vector<std::string> notes; // layers skipped or started afresh, one line each
};

[[nodiscard]] std::string encode_state(const Detector& detector, core::Millis written_at);
// Restores into `detector` (built with the options and model of this run); on an error the
// detector is partly restored and should be discarded. `name` is used in messages.
StateInfo decode_state(std::string_view bytes, std::string_view name, Detector& detector);

// nullopt when the file does not exist (a fresh start).
std::optional<StateInfo> load_state(const std::string& path, Detector& detector);
// Atomic replacement (write_file_atomic); on Error the previous file stays.
void save_state(const std::string& path, const Detector& detector, core::Millis written_at);

} // namespace iots::detect
