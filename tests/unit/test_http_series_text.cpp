// /api/readings writes its points straight into the text (series_text): the same bytes as the
// JSON value's dump (to_text(series_json)), whatever the numbers, names and anomalies.
#define BOOST_TEST_MODULE http_series_text
#include "iotshield/http/json.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <random>

using iots::http::series_json;
using iots::http::series_text;
using iots::http::to_text;
using iots::store::SeriesRange;

namespace {
SeriesRange range() {
    SeriesRange r;
    r.device = "esp32-livingroom";
    r.sensor = "temperature";
    r.unit = "C";
    r.from = 1759708800000;
    r.to = 1791244800000;
    r.raw_count = 105120;
    r.downsampled = true;
    r.tier = "hour";
    return r;
}
} // namespace

BOOST_AUTO_TEST_CASE(random_numbers_are_written_as_the_json_value_writes_them) {
    std::mt19937_64 rng(18);
    std::uniform_real_distribution<double> near(-100, 100);
    std::uniform_int_distribution<int> exponent(-320, 308);
    for (int round = 0; round < 50; ++round) {
        SeriesRange r = range();
        for (int i = 0; i < 1000; ++i) {
            double v = near(rng);
            switch (i % 5) {
            case 0:
                v = std::round(v * 100) / 100; // as the nodes send them
                break;
            case 1:
                v = std::ldexp(near(rng), exponent(rng) / 4);
                break;
            case 2:
                v = std::pow(10.0, exponent(rng)) * (i % 2 ? 1 : -1);
                break;
            case 3:
                v = std::round(v); // integral: 21.0
                break;
            default:
                break;
            }
            r.points.push_back({r.from + static_cast<std::int64_t>(i) * 31536000 - 7, v});
        }
        BOOST_TEST(series_text(r) == to_text(series_json(r)));
    }
}

BOOST_AUTO_TEST_CASE(edge_values_names_and_anomalies) {
    SeriesRange r = range();
    for (const double v :
         {0.0, -0.0, 1e-300, 5e-324, 1.7976931348623157e308, 0.1, 1e21, 1e22, 123456789012345678.0,
          std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()})
        r.points.push_back({-5, v});
    r.points.push_back({std::numeric_limits<std::int64_t>::min(), 1});
    r.points.push_back({std::numeric_limits<std::int64_t>::max(), 2});
    // Strings that hold the placeholder's text, escaped, before and after it in key order.
    r.device = R"(a"points":[]b)";
    r.unit = R"("points":[] \ é)";
    iots::store::AnomalyRow a;
    a.ts = 1759708800020;
    a.value = 70.5;
    a.score = 0.97;
    a.reasons = R"(["zscore","\"points\":[]"])";
    r.anomalies.push_back(a);
    const std::string text = series_text(r);
    BOOST_TEST(text == to_text(series_json(r)));
    BOOST_TEST(text.find(R"("points":[[-5,0.0],[-5,-0.0],)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_points) {
    SeriesRange r = range();
    BOOST_TEST(series_text(r) == to_text(series_json(r)));
    BOOST_TEST(series_text(r).find(R"("points":[])") != std::string::npos);
}
