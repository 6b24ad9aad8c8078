// A simulated week of the default three nodes (livingroom, kitchen, bedroom) from the default
// start (6 October, a heated home in central Europe): each signal's mean and range within bounds a
// real home of that kind shows, the daily cycles present, every record valid. Interval 30 s to keep
// the test quick (the model integrates exactly, so the physics do not depend on the step).
#define BOOST_TEST_MODULE sim_signals
#include "sim_test_util.hpp"

#include "iotshield/record/parser.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>

using namespace sim_test;

namespace {

struct Stats {
    std::size_t n = 0;
    double sum = 0, min = std::numeric_limits<double>::infinity(),
           max = -std::numeric_limits<double>::infinity();
    std::array<double, 24> hour_sum{};
    std::array<std::size_t, 24> hour_n{};
    void add(double v, int hour) {
        ++n;
        sum += v;
        min = std::min(min, v);
        max = std::max(max, v);
        hour_sum[static_cast<std::size_t>(hour)] += v;
        ++hour_n[static_cast<std::size_t>(hour)];
    }
    [[nodiscard]] double mean() const { return sum / static_cast<double>(n); }
    [[nodiscard]] double hours_mean(int from, int to) const { // [from, to)
        double s = 0;
        std::size_t k = 0;
        for (int h = from; h < to; ++h) {
            s += hour_sum[static_cast<std::size_t>(h)];
            k += hour_n[static_cast<std::size_t>(h)];
        }
        return s / static_cast<double>(k);
    }
};

struct Week {
    std::map<std::string, std::map<std::string, Stats>> stats; // device -> sensor -> stats
    std::map<std::string, std::vector<std::pair<double, double>>> temp_hum; // per step
    std::map<std::string, std::vector<double>> daily_range;                 // temperature
    std::size_t readings = 0, invalid = 0, not_normal = 0;
    std::string first_error;
};

const Week& week() {
    static const Week kWeek = [] {
        Week w;
        const auto c = config(30000);
        iots::sim::Simulator sim(c);
        iots::record::Parser parser;
        iots::record::Reading back;
        std::string json;
        struct MinMax {
            double first = 1, second = 0; // empty until the first value
        };
        std::map<std::pair<std::string, Millis>, MinMax> day_minmax;
        std::map<std::string, std::pair<double, double>> pending; // temperature, humidity
        const Millis end = c.start + 7 * kDay;
        for (;;) {
            const auto& out = sim.step();
            if (sim.last_ts() >= end)
                break;
            for (const auto* r : out) {
                ++w.readings;
                json.clear();
                iots::record::append_json(*r, json);
                if (!parser.parse(json, back) || back.value != r->value || back.ts != r->ts) {
                    if (w.first_error.empty())
                        w.first_error = json + ": " + parser.error();
                    ++w.invalid;
                }
                if (r->label != "normal")
                    ++w.not_normal;
                w.stats[r->device][r->sensor].add(r->value, hour_of(r->ts));
                if (r->sensor == "temperature") {
                    pending[r->device].first = r->value;
                    auto& mm = day_minmax[{r->device, (r->ts - c.start) / kDay}];
                    if (mm.first > mm.second)
                        mm = {r->value, r->value};
                    mm.first = std::min(mm.first, r->value);
                    mm.second = std::max(mm.second, r->value);
                } else if (r->sensor == "humidity") {
                    pending[r->device].second = r->value;
                    w.temp_hum[r->device].push_back(pending[r->device]);
                }
            }
        }
        for (const auto& [key, mm] : day_minmax)
            w.daily_range[key.first].push_back(mm.second - mm.first);
        return w;
    }();
    return kWeek;
}

double correlation(const std::vector<std::pair<double, double>>& xy) {
    double mx = 0, my = 0;
    for (const auto& [x, y] : xy) {
        mx += x;
        my += y;
    }
    mx /= static_cast<double>(xy.size());
    my /= static_cast<double>(xy.size());
    double sxy = 0, sxx = 0, syy = 0;
    for (const auto& [x, y] : xy) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    return sxy / std::sqrt(sxx * syy);
}

} // namespace

BOOST_AUTO_TEST_CASE(every_record_is_valid_and_normal) {
    const auto& w = week();
    // 7 days at 30 s: 20160 steps x 3 nodes x 6 sensors.
    BOOST_TEST(w.readings == 20160u * 3 * 6);
    BOOST_TEST(w.invalid == 0u, w.first_error);
    BOOST_TEST(w.not_normal == 0u); // no incidents asked for, none labelled
}

BOOST_AUTO_TEST_CASE(temperature_is_a_heated_home) {
    for (const auto& [device, s] : week().stats) {
        const auto& t = s.at("temperature");
        BOOST_TEST_CONTEXT(device) {
            // Setpoints 17-22 C (night and away setback to 16.5-18 C), October outdoors 5-18 C:
            // a heated room stays within about 15-24 C and averages 17-22 C.
            BOOST_TEST(t.mean() > 17.0);
            BOOST_TEST(t.mean() < 22.0);
            BOOST_TEST(t.min > 14.0);
            BOOST_TEST(t.max < 25.0);
        }
    }
}

BOOST_AUTO_TEST_CASE(temperature_follows_a_daily_cycle) {
    for (const auto& [device, ranges] : week().daily_range) {
        BOOST_TEST_CONTEXT(device) {
            BOOST_REQUIRE(ranges.size() == 7u);
            // Night setback is 2-3.5 C below the day setpoint, plus the thermostat's 0.6 C band:
            // every day spans at least 1.5 C, and no normal day more than 8 C.
            for (const double r : ranges) {
                BOOST_TEST(r > 1.5);
                BOOST_TEST(r < 8.0);
            }
            // Evenings (home, awake, heated to the day setpoint) are warmer than the small hours.
            const auto& t = week().stats.at(device).at("temperature");
            BOOST_TEST(t.hours_mean(19, 22) > t.hours_mean(2, 5) + 0.8);
        }
    }
}

BOOST_AUTO_TEST_CASE(humidity_in_range_and_against_temperature) {
    for (const auto& [device, s] : week().stats) {
        const auto& h = s.at("humidity");
        BOOST_TEST_CONTEXT(device) {
            // Indoor relative humidity in a heated home: 30-70 % on average, never dry below 20 %
            // or saturated (bathroom fog is not in these rooms).
            BOOST_TEST(h.mean() > 35.0);
            BOOST_TEST(h.mean() < 70.0);
            BOOST_TEST(h.min > 20.0);
            BOOST_TEST(h.max < 90.0);
            // With the moisture in the air fixed, relative humidity falls as the air warms. The
            // kitchen is left out: cooking heats and humidifies at once.
            if (device != "esp32-kitchen")
                BOOST_TEST(correlation(week().temp_hum.at(device)) < -0.1);
        }
    }
}

BOOST_AUTO_TEST_CASE(gas_near_a_clean_air_baseline_different_per_node) {
    std::vector<double> means;
    for (const auto& [device, s] : week().stats) {
        const auto& g = s.at("gas");
        BOOST_TEST_CONTEXT(device) {
            // MQ-2 clean-air baselines are drawn from 180-320 ppm and drift a few percent; cooking
            // adds up to 150 ppm in the kitchen. Nothing near a leak (1000 ppm and more).
            BOOST_TEST(g.mean() > 150.0);
            BOOST_TEST(g.mean() < 400.0);
            BOOST_TEST(g.min > 100.0);
            BOOST_TEST(g.max < 700.0);
        }
        means.push_back(g.mean());
    }
    std::sort(means.begin(), means.end());
    BOOST_TEST(means.back() - means.front() > 5.0); // each node a little different
}

BOOST_AUTO_TEST_CASE(flame_is_zero_without_fire) {
    for (const auto& [device, s] : week().stats) {
        BOOST_TEST(s.at("flame").max == 0.0, device);
    }
}

BOOST_AUTO_TEST_CASE(light_follows_daylight_and_lamps) {
    for (const auto& [device, s] : week().stats) {
        const auto& l = s.at("light");
        BOOST_TEST_CONTEXT(device) {
            BOOST_TEST(l.min >= 0.0);
            BOOST_TEST(l.max < 5000.0); // indoors, through windows: hundreds of lux, not 100k
            // Noon through a window (~100-1000 lux) against the small hours (street light, ~0.3).
            BOOST_TEST(l.hours_mean(11, 14) > 10 * l.hours_mean(1, 5));
            BOOST_TEST(l.hours_mean(1, 5) < 5.0);
        }
    }
    // The living room's lamps are on in the evening after dark (sunset ~18:45 UTC in October).
    const auto& living = week().stats.at("esp32-livingroom").at("light");
    BOOST_TEST(living.hours_mean(20, 22) > 50.0);
}

BOOST_AUTO_TEST_CASE(motion_follows_the_occupancy_schedule) {
    for (const auto& [device, s] : week().stats) {
        const auto& m = s.at("motion");
        BOOST_TEST_CONTEXT(device) {
            // A PIR in a lived-in room fires in a few percent of 30 s windows over a week.
            BOOST_TEST(m.mean() > 0.01);
            BOOST_TEST(m.mean() < 0.5);
        }
    }
    // Evenings in the living room are busy, its small hours quiet (everyone asleep upstairs).
    const auto& living = week().stats.at("esp32-livingroom").at("motion");
    BOOST_TEST(living.hours_mean(19, 22) > 0.2);
    BOOST_TEST(living.hours_mean(1, 5) < 0.02);
    // The kitchen is busiest at dinner.
    const auto& kitchen = week().stats.at("esp32-kitchen").at("motion");
    BOOST_TEST(kitchen.hours_mean(18, 20) > 3 * kitchen.hours_mean(1, 5) + 0.05);
}
