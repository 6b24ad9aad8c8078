// The model-file loader (detect/model_file) on any bytes. Each input is tried as it is, and again
// with its length field and CRC repaired, so that mutations reach the payload decoder instead of
// stopping at the checksum. Invariants: a refused file is Error(no_input) with a one-line message;
// an accepted one re-encodes to bytes that decode to the same model, and a detector using it scores
// readings of its series in [0, 1].
#include "fuzz_check.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/detect/detector.hpp"
#include "iotshield/detect/model_file.hpp"

#include <cmath>
#include <cstdint>
#include <string>

using iots::fuzz::check;

namespace {

constexpr std::string_view kMagic = "IOTSMODL";
constexpr std::size_t kHeader = 20; // magic, version u32, payload length u64

void put_le(std::string& s, std::size_t at, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i)
        s[at + static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
}

void score_some(const iots::detect::Model& m) {
    iots::detect::Detector d({}, &m);
    std::size_t n = 0;
    for (const auto& s : m.series) {
        if (++n > 8)
            break;
        const std::string device = s.device.empty() ? "fuzz-device" : s.device;
        const double values[] = {s.normal_min, s.normal_max, 0.0, 1.0, 1e6, -1e6};
        iots::core::Millis ts = m.train_to;
        for (const double v : values) {
            if (!std::isfinite(v))
                continue;
            ts += 5000;
            const auto verdict = d.score(ts, device, s.sensor, v);
            check(verdict.score >= 0 && verdict.score <= 1, "score outside [0, 1]",
                  device + "/" + s.sensor);
        }
    }
}

void decode_checked(std::string_view bytes) {
    iots::detect::Model m;
    try {
        m = iots::detect::decode_model(bytes, "fuzz.model");
    } catch (const iots::Error& e) {
        check(e.code() == iots::Exit::no_input, "load error is not no_input (66)", e.what());
        iots::fuzz::check_one_line(e.what(), "load error message");
        return;
    }
    const std::string encoded = iots::detect::encode_model(m);
    iots::detect::Model again;
    try {
        again = iots::detect::decode_model(encoded, "re-encoded");
    } catch (const iots::Error& e) {
        iots::fuzz::broken("a re-encoded model does not load", e.what());
    }
    check(iots::detect::encode_model(again) == encoded, "re-encoded model differs");
    score_some(m);
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
