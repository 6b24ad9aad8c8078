// The state-file loader (detect/state_file) on any bytes. Each input is tried as it is, and again
// with its length field and CRC repaired, so that mutations reach the payload decoder and the raw
// layer bytes instead of stopping at the checksum. Invariants: a refused file is Error(no_input)
// with a one-line message; an accepted one gives a detector that scores readings of its series in
// [0, 1] and whose state, saved and loaded again, saves to the same bytes.
#include "fuzz_check.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/detect/detector.hpp"
#include "iotshield/detect/file_format.hpp"
#include "iotshield/detect/state_file.hpp"

#include <cstdint>
#include <string>

using iots::fuzz::check;

namespace {

constexpr std::string_view kMagic = "IOTSSTAT";
constexpr std::size_t kHeader = 20; // magic, version u32, payload length u64

void put_le(std::string& s, std::size_t at, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i)
        s[at + static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
}

void decode_checked(std::string_view bytes) {
    iots::detect::Detector d;
    iots::detect::StateInfo info;
    try {
        info = iots::detect::decode_state(bytes, "fuzz.state", d);
    } catch (const iots::Error& e) {
        check(e.code() == iots::Exit::no_input, "load error is not no_input (66)", e.what());
        iots::fuzz::check_one_line(e.what(), "load error message");
        return;
    }
    for (const auto& note : info.notes)
        iots::fuzz::check_one_line(note, "note");
    const std::string saved = iots::detect::encode_state(d, info.written_at);
    iots::detect::Detector again;
    try {
        (void)iots::detect::decode_state(saved, "re-encoded", again);
    } catch (const iots::Error& e) {
        iots::fuzz::broken("a re-encoded state does not load", e.what());
    }
    check(iots::detect::encode_state(again, info.written_at) == saved, "re-encoded state differs");
    // A few readings for each series the file restored (at most 8): scores stay in [0, 1].
    iots::detect::ByteReader r(
        iots::detect::unframe(saved, kMagic, iots::detect::kStateFormatVersion, "state", "saved"),
        "state", "saved");
    (void)r.i64("written_at");
    (void)r.u8("byte order");
    const std::uint32_t n = r.u32("series count");
    for (std::uint32_t i = 0; i < n && i < 8; ++i) {
        const std::string device = r.str("device");
        const std::string sensor = r.str("sensor");
        const std::uint32_t chunks = r.u32("chunks");
        for (std::uint32_t c = 0; c < chunks; ++c) {
            (void)r.str("tag");
            (void)r.u32("version");
            (void)r.raw(r.u64("size"), "bytes");
        }
        for (const double v : {0.0, 1.0, 21.5, 5000.0, 1e6, -1e6})
            for (const iots::core::Millis ts :
                 {iots::core::Millis{0}, iots::core::Millis{1} << 50}) {
                const auto verdict = again.score(ts, device, sensor, v);
                check(verdict.score >= 0 && verdict.score <= 1, "score outside [0, 1]",
                      device + "/" + sensor);
            }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    const auto bytes = iots::fuzz::as_text(data, size);
    decode_checked(bytes);
    if (size >= kHeader + 4 && bytes.starts_with(kMagic)) {
        std::string fixed(bytes);
        put_le(fixed, 12, size - kHeader - 4, 8);
        put_le(fixed, size - 4, iots::detect::crc32(std::string_view(fixed).substr(0, size - 4)),
               4);
        decode_checked(fixed);
    }
    return 0;
}
