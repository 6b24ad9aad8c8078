#pragma once
// The model file: a thin byte-level layer, explicit little-endian so a model moves between
// machines of either byte order. The frame of file_format.hpp with magic "IOTSMODL" and version
// Model::kFormatVersion around a payload of the feature list, parameters, training range,
// per-series levels, thresholds, score distribution, the tails of the model's statistics (from
// version 5) and forests.
//
// Every failure to load is iots::Error(Exit::no_input) whose message names the file and what is
// wrong ("truncated: 100 of 2321 bytes", "checksum mismatch ...", "format version 9 is not
// supported ..."); a model is never silently replaced by defaults.
#include "iotshield/detect/file_format.hpp" // crc32
#include "iotshield/detect/model.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace iots::detect {

[[nodiscard]] std::string encode_model(const Model& model);
// `name` is used in error messages (usually the path).
[[nodiscard]] Model decode_model(std::string_view bytes, std::string_view name);

// File I/O, nothing more: read all bytes and decode; encode and write atomically (temporary file
// in the same directory, fsync, rename). Write failures are Error(Exit::io_error).
[[nodiscard]] Model load_model(const std::string& path);
void save_model(const std::string& path, const Model& model);

} // namespace iots::detect
