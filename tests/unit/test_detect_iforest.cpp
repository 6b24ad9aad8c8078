#define BOOST_TEST_MODULE detect_iforest
#include "iotshield/detect/detector.hpp"
#include "iotshield/detect/iforest.hpp"
#include "iotshield/detect/model.hpp"

#include <boost/test/unit_test.hpp>

#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

// Counts heap allocations, to show that scoring one reading allocates nothing.
// The replaced new/delete pair is malloc/free on purpose; GCC 12 with the sanitizers inlines them
// and wrongly reports the pair as mismatched.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<long> g_allocations{0};
}
void* operator new(std::size_t n) {
    ++g_allocations;
    if (void* p = std::malloc(n == 0 ? 1 : n))
        return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}

using namespace iots::detect;

namespace {
// 2-D Gaussian cloud (one column per point) plus nothing else.
FeatureMatrix cloud(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g(0.0, 1.0);
    FeatureMatrix X;
    X.rows = 2;
    X.cols = n;
    for (std::size_t j = 0; j < n; ++j) {
        X.values.push_back(g(rng));
        X.values.push_back(g(rng));
    }
    return X;
}
} // namespace

BOOST_AUTO_TEST_CASE(average_path_length_matches_liu_2008) {
    // c(n) = 2 H(n-1) - 2 (n-1)/n with H(i) = ln(i) + 0.5772156649.
    // c(256) = 2 (ln 255 + 0.5772) - 2 * 255/256 = 2 * 6.1186 - 1.9922 = 10.2448
    BOOST_TEST(std::fabs(average_path_length(256) - 10.2448) < 1e-3);
    BOOST_TEST(average_path_length(1) == 0.0);
    BOOST_TEST(average_path_length(2) == 1.0);
}

BOOST_AUTO_TEST_CASE(outliers_score_high_and_inliers_low) {
    const FeatureMatrix X = cloud(5000, 1);
    const Forest f = Forest::train(X.points(), ForestParams{});
    BOOST_TEST(f.trees() == 100U);
    BOOST_TEST(f.depth() == 8U);
    const double centre[2] = {0.0, 0.0};
    const double far[2] = {6.0, -6.0};
    // An isolated point is separated in a few splits: E[h] small, score well above 0.5; the
    // centre of the cloud needs about c(256) splits: score near 2^-1 or below.
    BOOST_TEST(f.score(far) > 0.7);
    BOOST_TEST(f.score(centre) < 0.5);
}

BOOST_AUTO_TEST_CASE(training_is_deterministic_under_a_seed) {
    const FeatureMatrix X = cloud(2000, 2);
    ForestParams p;
    p.seed = 42;
    const Forest a = Forest::train(X.points(), p);
    const Forest b = Forest::train(X.points(), p);
    BOOST_TEST(a.values() == b.values());
    BOOST_TEST(a.splits() == b.splits());
    p.seed = 43;
    const Forest c = Forest::train(X.points(), p);
    BOOST_TEST(!(a.values() == c.values()));
}

BOOST_AUTO_TEST_CASE(batch_scoring_equals_single_scoring) {
    const FeatureMatrix X = cloud(1000, 3);
    const Forest f = Forest::train(X.points(), ForestParams{});
    const std::vector<double> s = f.score_batch(X.points());
    BOOST_REQUIRE_EQUAL(s.size(), X.cols);
    for (std::size_t j = 0; j < X.cols; ++j)
        BOOST_TEST(s[j] == f.score(X.points().point(j)));
}

BOOST_AUTO_TEST_CASE(flat_tree_equals_a_plain_recursive_reference) {
    // Reference: walk the same nodes by explicit recursion on (node, depth) and compare E[h].
    const FeatureMatrix X = cloud(600, 4);
    const Forest f = Forest::train(X.points(), ForestParams{});
    const auto& v = f.values();
    const auto& s = f.splits();
    auto path = [&](std::size_t base, std::size_t node, const double* x, auto& self) -> double {
        if (s[base + node] == Forest::kLeaf)
            return static_cast<double>(v[base + node]);
        const bool right = static_cast<float>(x[s[base + node]]) >= v[base + node];
        return self(base, 2 * node + (right ? 2 : 1), x, self);
    };
    for (std::size_t j = 0; j < 50; ++j) {
        double sum = 0;
        for (std::uint32_t t = 0; t < f.trees(); ++t)
            sum += path(t * f.nodes_per_tree(), 0, X.points().point(j), path);
        const double expected = std::exp2(-(sum / f.trees()) / average_path_length(256));
        BOOST_TEST(std::fabs(f.score(X.points().point(j)) - expected) < 1e-12);
    }
}

BOOST_AUTO_TEST_CASE(scoring_layout_gives_exactly_the_reference_sum) {
    // Level-by-level walking over groups of trees must not change a single bit: the reference
    // adds the leaves four trees at a time, then one by one (the documented order). 130 trees
    // (more than one group of 128, not a multiple of 4), depth 9, 7 features, points far out.
    std::mt19937_64 rng(12);
    std::normal_distribution<double> g(0.0, 1.0);
    FeatureMatrix X;
    X.rows = 7;
    X.cols = 2000;
    for (std::size_t j = 0; j < X.cols; ++j)
        for (std::size_t i = 0; i < X.rows; ++i)
            X.values.push_back(g(rng) * static_cast<double>(i + 1));
    const Forest f = Forest::train(X.points(), ForestParams{130, 300, 9, 5});
    const auto& v = f.values();
    const auto& s = f.splits();
    auto leaf = [&](std::size_t base, const double* x) {
        std::size_t node = 0;
        while (s[base + node] != Forest::kLeaf)
            node = 2 * node + (static_cast<float>(x[s[base + node]]) >= v[base + node] ? 2 : 1);
        return static_cast<double>(v[base + node]);
    };
    std::uniform_real_distribution<double> far(-50.0, 50.0);
    for (int j = 0; j < 300; ++j) {
        std::array<double, 7> x{};
        for (auto& e : x)
            e = j < 150 ? X.points().at(static_cast<std::size_t>(&e - x.data()),
                                        static_cast<std::size_t>(j))
                        : far(rng);
        double sum = 0;
        std::uint32_t t = 0;
        const std::size_t n = f.nodes_per_tree();
        for (; t + 4 <= f.trees(); t += 4)
            sum += leaf(t * n, x.data()) + leaf((t + 1) * n, x.data()) +
                   leaf((t + 2) * n, x.data()) + leaf((t + 3) * n, x.data());
        for (; t < f.trees(); ++t)
            sum += leaf(t * n, x.data());
        BOOST_TEST(f.mean_path(x.data()) == sum / 130.0);
    }
}

BOOST_AUTO_TEST_CASE(small_training_sets_use_all_points) {
    const FeatureMatrix X = cloud(40, 5);
    const Forest f = Forest::train(X.points(), ForestParams{});
    BOOST_TEST(f.psi() == 40.0);
    BOOST_CHECK_THROW(Forest::train(Points{X.values.data(), 2, 0}, ForestParams{}),
                      std::invalid_argument);
    BOOST_CHECK_THROW(Forest::train(Points{X.values.data(), 0, 40}, ForestParams{}),
                      std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(scoring_one_reading_does_not_allocate) {
    const FeatureMatrix X = cloud(3000, 6);
    const Forest f = Forest::train(X.points(), ForestParams{});
    const double x[2] = {0.3, -0.2};
    const long before = g_allocations.load();
    double sum = 0;
    for (int i = 0; i < 1000; ++i)
        sum += f.score(x);
    BOOST_TEST(g_allocations.load() == before);
    BOOST_TEST(sum > 0);
}

BOOST_AUTO_TEST_CASE(detector_steady_state_does_not_allocate) {
    // A trained model and a detector that has seen the series: scoring more readings of it
    // allocates nothing (the series map, its key and the forest are all in place).
    std::mt19937_64 rng(9);
    std::normal_distribution<double> g(0.0, 0.1);
    History h{"a", "temperature", {}, {}};
    for (int i = 0; i < 3000; ++i) {
        h.ts.push_back(1'700'000'000'000 + i * 5000LL);
        h.values.push_back(21.0 + g(rng));
    }
    TrainOptions o;
    const TrainResult r = train({h}, o);
    BOOST_TEST(r.model.series.size() == 1U);
    Detector d(DetectorOptions{}, &r.model);
    std::int64_t t = 1'700'100'000'000;
    for (int i = 0; i < 100; ++i, t += 5000)
        (void)d.score(t, "a", "temperature", 21.0 + g(rng));
    const long before = g_allocations.load();
    for (int i = 0; i < 1000; ++i, t += 5000)
        (void)d.score(t, "a", "temperature", 21.0 + g(rng));
    BOOST_TEST(g_allocations.load() == before);
}
