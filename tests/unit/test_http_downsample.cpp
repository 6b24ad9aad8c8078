// Min/max downsampling for /api/readings: the streaming fast path equals the plain reference, and
// the reference keeps every bucket's extremes.
#define BOOST_TEST_MODULE http_downsample
#include "iotshield/store/queries.hpp"

#include <boost/test/unit_test.hpp>

#include <random>

using iots::store::SeriesPoint;

namespace {
std::vector<SeriesPoint> stream(const std::vector<SeriesPoint>& in, std::int64_t from,
                                std::int64_t to, std::size_t n) {
    iots::store::MinMaxDownsampler ds(from, to, n);
    for (const auto& p : in)
        ds.add(p);
    BOOST_TEST(ds.count() == in.size());
    return ds.finish();
}
bool same(const std::vector<SeriesPoint>& a, const std::vector<SeriesPoint>& b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].ts != b[i].ts || a[i].value != b[i].value)
            return false;
    return true;
}
} // namespace

BOOST_AUTO_TEST_CASE(few_points_come_back_unchanged) {
    const std::vector<SeriesPoint> in{{0, 1.0}, {10, 2.0}, {20, 3.0}};
    BOOST_TEST(same(iots::store::downsample_min_max(in, 0, 30, 3), in));
    BOOST_TEST(same(stream(in, 0, 30, 3), in));
}

BOOST_AUTO_TEST_CASE(each_bucket_keeps_min_then_max_in_time_order) {
    // 8 points over [0, 80), 4 points asked: 2 buckets of 40 ms.
    // bucket 0: values 5 1 9 3 -> min 1 (ts 10), max 9 (ts 20); bucket 1: 4 8 0 6 -> max 8 (ts 50)
    // comes before min 0 (ts 60).
    const std::vector<SeriesPoint> in{{0, 5},  {10, 1}, {20, 9}, {30, 3},
                                      {40, 4}, {50, 8}, {60, 0}, {70, 6}};
    const std::vector<SeriesPoint> want{{10, 1}, {20, 9}, {50, 8}, {60, 0}};
    BOOST_TEST(same(iots::store::downsample_min_max(in, 0, 80, 4), want));
    BOOST_TEST(same(stream(in, 0, 80, 4), want));
}

BOOST_AUTO_TEST_CASE(streaming_equals_reference_on_random_series_with_gaps) {
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> value(-50, 50);
    std::uniform_int_distribution<int> step(1, 5000);
    for (int round = 0; round < 50; ++round) {
        std::vector<SeriesPoint> in;
        std::int64_t t = 1'000'000;
        const auto n = static_cast<std::size_t>(std::uniform_int_distribution<int>(0, 5000)(rng));
        for (std::size_t i = 0; i < n; ++i) {
            t += step(rng) * (i % 700 == 0 ? 50 : 1); // occasional gaps
            in.push_back({t, value(rng)});
        }
        const auto points =
            static_cast<std::size_t>(std::uniform_int_distribution<int>(2, 1200)(rng));
        const std::int64_t from = 1'000'000, to = t + 1;
        const auto ref = iots::store::downsample_min_max(in, from, to, points);
        BOOST_TEST(same(stream(in, from, to, points), ref), "round " << round);
        BOOST_TEST(ref.size() <= std::max(points, in.size() <= points ? in.size() : points));
    }
}
