#pragma once
// Edge noise: every reading noised on the node, before it leaves for a broker the home does not
// trust (iots-sim --dp-epsilon; the firmware's portable core has its own copy, firmware/core
// iotsfw/edge_noise.*).
//
// The privacy unit is the home's day: all the readings of all its nodes in 24 hours. The day's
// (epsilon, delta) is split evenly over every noised reading the home sends in a day (basic
// composition), each clamped to its kind's range, the range's width being its sensitivity (the
// unit may move any reading anywhere in it). Motion (0/1) goes through randomized response, the
// numeric kinds through the grid mechanisms of mechanism.hpp; every released value is clamped to
// the range again (post-processing: free), so the hub's parser still accepts it.
//
// Safety channels are never noised: gas and flame are sent exactly; so is a temperature at or
// above the heat danger level (record/safety.hpp, 57 C), while noised temperatures are clamped
// below it, so that the hub's heat, gas and flame alarms act on true values and noise never raises
// one. Those exact values are outside the guarantee, and said so wherever the cost is shown.
#include "iotshield/privacy/mechanism.hpp"
#include "iotshield/privacy/random.hpp"
#include "iotshield/record/reading.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iots::privacy {

// The kinds edge noise covers, in this order.
inline constexpr std::array<std::string_view, 4> kEdgeKinds{"temperature", "humidity", "motion",
                                                            "light"};

// The default clamp of a kind: DESIGN §2's accepted range, temperature's top cut to 56 C (below
// the heat level). nullopt for the safety kinds and any other series.
[[nodiscard]] std::optional<Range> edge_default_clamp(std::string_view kind);

// "temperature=10:35" -> the kind and its range; throws iots::Error(usage) naming what is wrong
// (a kind not noised, a range outside the accepted one, lo >= hi, temperature's hi at the heat
// level).
[[nodiscard]] std::pair<std::string, Range> parse_edge_clamp(std::string_view text);

struct EdgeOptions {
    Mech mech = Mech::laplace;
    double day_epsilon = 0;
    double day_delta = 0;              // Gaussian only: the day's delta, split as epsilon is
    std::int64_t readings_per_day = 0; // noised readings the whole home sends in 24 hours
    std::vector<std::pair<std::string, Range>> clamps; // overrides of the default clamps
};

// The number of readings a series sends in 24 hours at one every interval_ms, rounded up and one
// more (a reading's jitter can fit one more into a window).
[[nodiscard]] std::int64_t readings_per_day(std::int64_t interval_ms);

class EdgeNoise {
public:
    // Throws iots::Error(usage) when the split leaves a reading less than 2^-20 of epsilon (the
    // samplers' resolution), or an option is out of range.
    explicit EdgeNoise(const EdgeOptions& options);

    // Noises r in place and adds its "privacy" member; false (r untouched) for a safety channel.
    bool apply(record::Reading& r, RandomSource& rng) const;

    [[nodiscard]] double reading_epsilon() const noexcept { return m_eps; }
    [[nodiscard]] double reading_delta() const noexcept { return m_delta; }
    [[nodiscard]] const EdgeOptions& options() const noexcept { return m_options; }
    [[nodiscard]] Range clamp_of(std::string_view kind) const;
    // The noise's scale for a numeric kind (Laplace b, Gaussian sigma) in the value's unit.
    [[nodiscard]] double scale_of(std::string_view kind) const;

private:
    struct Kind {
        Range range;
        GridMechanism mech; // numeric kinds
        std::string note;   // the record's "privacy" member, `"privacy":{…}`
    };
    [[nodiscard]] const Kind* find(std::string_view sensor) const;
    EdgeOptions m_options;
    double m_eps = 0, m_delta = 0;
    std::array<Kind, kEdgeKinds.size()> m_kinds{};
};

} // namespace iots::privacy
