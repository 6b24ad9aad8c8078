#pragma once
// iots-ingest's privacy policy (--privacy-policy FILE, iots-ingest(1)): per sensor kind, what of a
// reading is kept before it is stored or passed on: all of it, nothing (drop), its value rounded to
// a step, its time floored to a step, or both. One rule a line, `SENSOR ACTION...`; `*` for every
// kind without a line of its own. Safety signals act on true values (DESIGN §6): a rule that would
// drop, round or coarsen flame or gas, or drop temperature, is refused, and `*` reaches none of
// the three.
#include "iotshield/core/time.hpp"
#include "iotshield/record/reading.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace iots::ingest {

struct SensorRule {
    std::string sensor;         // a kind, or "*"
    bool drop = false;          // neither stored nor passed on
    double round_step = 0;      // > 0: the value rounded to the nearest multiple
    core::Millis time_step = 0; // > 0: ts floored to a multiple (UTC epoch)
};

class PrivacyPolicy {
public:
    PrivacyPolicy() = default;
    // where: the file's name for messages ("policy:3: round: ..."); Error(config) -> exit 78.
    [[nodiscard]] static PrivacyPolicy parse(std::string_view text, const std::string& where);
    // Error(no_input) when the file cannot be read, else as parse.
    [[nodiscard]] static PrivacyPolicy load(const std::string& path);

    [[nodiscard]] bool empty() const noexcept { return m_rules.empty(); }
    // The rule for a sensor kind: its own, else "*", else nullptr (kept as it is).
    [[nodiscard]] const SensorRule* find(std::string_view sensor) const noexcept;
    // Applies the rule of r's sensor to r; false when r is to be dropped.
    bool apply(record::Reading& r) const;

private:
    std::vector<SensorRule> m_rules;
};

// v rounded to the nearest multiple of step (> 0), computed so that a decimal step gives the
// decimal result (round 0.1: 21.34 -> 21.3, not 21.300000000000001).
[[nodiscard]] double round_to(double v, double step) noexcept;

} // namespace iots::ingest
