// adapt::Adapter on any bytes, read as a stdin line (`TOPIC PAYLOAD`, or a bare record) in every
// format. Invariants: a problem is a one-line reason; a reading is valid by the record rules and
// serialises to one line that the record parser reads back as the same reading; a status names a
// valid device and says online or offline.
#include "fuzz_check.hpp"
#include "iotshield/adapt/adapter.hpp"
#include "iotshield/record/parser.hpp"
#include "iotshield/record/sensor.hpp"
#include "iotshield/record/serialize.hpp"

#include <array>
#include <memory>

using iots::fuzz::check;

namespace {

constexpr iots::core::Millis kWall = 1761408000000; // 2025-10-25T16:00:00Z

std::array<std::unique_ptr<iots::adapt::Adapter>, 6>& adapters() {
    using iots::adapt::Format;
    static std::array<std::unique_ptr<iots::adapt::Adapter>, 6> all = [] {
        std::array<std::unique_ptr<iots::adapt::Adapter>, 6> a;
        const Format formats[] = {Format::automatic,   Format::iotshield, Format::seed,
                                  Format::zigbee2mqtt, Format::tasmota,   Format::esphome};
        for (std::size_t i = 0; i < a.size(); ++i) {
            iots::adapt::Options o;
            o.format = formats[i];
            o.utc_offset_s = 3600;
            a[i] = std::make_unique<iots::adapt::Adapter>(o);
        }
        return a;
    }();
    return all;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    static iots::record::Parser parser([] {
        iots::record::ParseOptions o;
        o.check_ranges = true;
        return o;
    }());
    const auto text = iots::fuzz::as_text(data, size);
    iots::adapt::Result res;
    for (auto& adapter : adapters()) {
        adapter->adapt_line(text, kWall, res);
        for (const auto& p : res.problems)
            iots::fuzz::check_one_line(p, "problem reason");
        if (res.kind == iots::adapt::Kind::status) {
            check(iots::record::valid_name(res.device), "status of an invalid device", res.device);
            check(res.status == "online" || res.status == "offline", "status word", res.status);
        }
        for (const auto& r : res.readings) {
            check(iots::record::validate(r).empty(), "invalid reading", iots::record::validate(r));
            const std::string json = iots::record::to_json(r);
            check(json.find('\n') == std::string::npos, "reading spans lines", json);
            iots::record::Reading again;
            check(parser.parse(json, again), "reading is rejected", parser.error() + ": " + json);
            check(again == r, "reading reads back differently", json);
        }
    }
    return 0;
}
