// Forest fit and scoring time on one series' feature matrix, and the matrix as CSV for
// scikit-learn (bench/detect_speed.sh builds and runs this; not part of the build).
#include "iotshield/detect/iforest.hpp"
#include "iotshield/detect/model.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

using namespace iots::detect;

int main(int argc, char** argv) {
    const std::size_t n = argc > 1 ? std::stoul(argv[1]) : 100000;
    const char* csv = argc > 2 ? argv[2] : nullptr;
    // A room temperature with a daily cycle and noise, one reading every 5 s.
    std::mt19937_64 rng(1);
    std::normal_distribution<double> g(0.0, 0.05);
    History h{"bench", "temperature", {}, {}};
    for (std::size_t i = 0; i < n + 16; ++i) {
        const double t = static_cast<double>(i) * 5.0;
        h.ts.push_back(1'700'000'000'000 + static_cast<std::int64_t>(i) * 5000);
        h.values.push_back(21.0 + 1.5 * std::sin(t / 86400.0 * 2 * M_PI) + g(rng));
    }
    const FeatureMatrix M = feature_matrix(h, SafetyLevels{}, StreamLevels{});
    const Points X = M.points();
    using clock = std::chrono::steady_clock;
    double best_fit = 1e9;
    Forest f;
    for (int rep = 0; rep < 5; ++rep) {
        const auto t0 = clock::now();
        f = Forest::train(X, ForestParams{});
        best_fit = std::min(best_fit,
                            std::chrono::duration<double, std::milli>(clock::now() - t0).count());
    }
    const auto t1 = clock::now();
    const std::vector<double> s = f.score_batch(X);
    const double score_ms = std::chrono::duration<double, std::milli>(clock::now() - t1).count();
    // As iots-detect sees it: 60 series, each with its own forest, readings in turn, so each
    // point finds its forest out of the cache.
    std::vector<Forest> many;
    for (std::uint64_t k = 0; k < 60; ++k)
        many.push_back(Forest::train(X, ForestParams{100, 256, 8, k + 2}));
    double checksum = 0;
    const auto t2 = clock::now();
    for (std::size_t j = 0; j < X.cols; ++j)
        checksum += many[j % many.size()].score(X.point(j));
    const double many_ms = std::chrono::duration<double, std::milli>(clock::now() - t2).count();
    std::printf("rows %llu fit_ms %.2f score_batch_per_s %.0f mean_score %.4f "
                "score_60_forests_per_s %.0f %.4f\n",
                static_cast<unsigned long long>(X.cols), best_fit,
                static_cast<double>(X.cols) / (score_ms / 1000.0),
                std::accumulate(s.begin(), s.end(), 0.0) / static_cast<double>(s.size()),
                static_cast<double>(X.cols) / (many_ms / 1000.0),
                checksum / static_cast<double>(X.cols));
    if (csv != nullptr) {
        std::FILE* out = std::fopen(csv, "w");
        for (std::size_t j = 0; j < X.cols; ++j)
            for (std::size_t i = 0; i < X.rows; ++i)
                std::fprintf(out, "%.17g%c", X.at(i, j), i + 1 == X.rows ? '\n' : ',');
        std::fclose(out);
    }
    return 0;
}
