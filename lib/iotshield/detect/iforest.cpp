#include "iotshield/detect/iforest.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

namespace iots::detect {

namespace {
constexpr double kEulerGamma = 0.5772156649015329;
constexpr std::uint32_t kMaxDepth = 16;
constexpr std::uint32_t kMaxFeatures = 64;
constexpr std::uint32_t kSink = kMaxFeatures; // the feature slot of a leaf in the scoring layout

// Portable uniform numbers from mt19937_64 (std distributions differ between libraries).
double unit(std::mt19937_64& rng) {
    return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}
std::size_t below(std::mt19937_64& rng, std::size_t n) {
    return static_cast<std::size_t>(unit(rng) * static_cast<double>(n));
}

struct Builder {
    Points X;
    std::mt19937_64& rng;
    std::uint32_t depth_limit;
    float* values;
    std::uint8_t* splits;
    std::vector<std::size_t>& idx;

    // Points idx[lo, hi) reach node `node` at `depth`.
    void build(std::size_t node, std::uint32_t depth, std::size_t lo, std::size_t hi) {
        const std::size_t n = hi - lo;
        if (depth >= depth_limit || n <= 1) {
            leaf(node, depth, n);
            return;
        }
        // Pick uniformly among the features that still vary here.
        std::array<double, kMaxFeatures> lo_v{}, hi_v{};
        std::array<std::uint8_t, kMaxFeatures> varying{};
        std::size_t nv = 0;
        for (std::size_t f = 0; f < X.rows; ++f) {
            double mn = X.at(f, idx[lo]), mx = mn;
            for (std::size_t i = lo + 1; i < hi; ++i) {
                const double v = X.at(f, idx[i]);
                mn = std::min(mn, v);
                mx = std::max(mx, v);
            }
            if (static_cast<float>(mx) > static_cast<float>(mn)) {
                lo_v[nv] = mn;
                hi_v[nv] = mx;
                varying[nv++] = static_cast<std::uint8_t>(f);
            }
        }
        if (nv == 0) {
            leaf(node, depth, n);
            return;
        }
        const std::size_t pick = below(rng, nv);
        const std::uint8_t f = varying[pick];
        auto p = static_cast<float>(lo_v[pick] + unit(rng) * (hi_v[pick] - lo_v[pick]));
        if (!(p > static_cast<float>(lo_v[pick]))) // keep both sides non-empty after rounding
            p = std::nextafter(static_cast<float>(lo_v[pick]), static_cast<float>(hi_v[pick]));
        // Scoring goes right when x >= p, as float, exactly as here.
        auto mid =
            std::partition(idx.begin() + static_cast<std::ptrdiff_t>(lo),
                           idx.begin() + static_cast<std::ptrdiff_t>(hi),
                           [&](std::size_t j) { return static_cast<float>(X.at(f, j)) < p; });
        const auto m = static_cast<std::size_t>(mid - idx.begin());
        values[node] = p;
        splits[node] = f;
        build(2 * node + 1, depth + 1, lo, m);
        build(2 * node + 2, depth + 1, m, hi);
    }

    void leaf(std::size_t node, std::uint32_t depth, std::size_t n) {
        values[node] = static_cast<float>(static_cast<double>(depth) +
                                          average_path_length(static_cast<double>(n)));
        splits[node] = Forest::kLeaf;
    }
};
} // namespace

double average_path_length(double n) noexcept {
    if (n <= 1)
        return 0;
    if (n <= 2)
        return 1;
    return 2.0 * (std::log(n - 1.0) + kEulerGamma) - 2.0 * (n - 1.0) / n;
}

Forest Forest::train(Points X, const ForestParams& params) {
    if (X.cols == 0 || X.rows == 0 || X.data == nullptr)
        throw std::invalid_argument("isolation forest: no training data");
    if (X.rows > kMaxFeatures)
        throw std::invalid_argument("isolation forest: too many features");
    if (params.trees == 0 || params.subsample < 2 || params.depth == 0 || params.depth > kMaxDepth)
        throw std::invalid_argument("isolation forest: trees >= 1, subsample >= 2, depth 1..16");
    Forest f;
    f.m_trees = params.trees;
    f.m_depth = params.depth;
    f.m_features = static_cast<std::uint32_t>(X.rows);
    f.m_nodes = (std::size_t{1} << (params.depth + 1)) - 1;
    const std::size_t psi = std::min<std::size_t>(params.subsample, X.cols);
    f.m_psi = static_cast<double>(psi);
    f.m_norm = std::max(average_path_length(f.m_psi), 1e-9);
    f.m_values.assign(f.m_nodes * f.m_trees, 0.0F);
    f.m_splits.assign(f.m_nodes * f.m_trees, kLeaf);

    std::mt19937_64 rng(params.seed);
    std::vector<std::size_t> all(X.cols);
    std::iota(all.begin(), all.end(), std::size_t{0});
    std::vector<std::size_t> idx(psi);
    for (std::uint32_t t = 0; t < f.m_trees; ++t) {
        // Partial Fisher-Yates: a sample without replacement. `all` stays a permutation.
        for (std::size_t i = 0; i < psi; ++i) {
            const std::size_t j = i + below(rng, all.size() - i);
            std::swap(all[i], all[j]);
            idx[i] = all[i];
        }
        Builder b{X,
                  rng,
                  f.m_depth,
                  f.m_values.data() + t * f.m_nodes,
                  f.m_splits.data() + t * f.m_nodes,
                  idx};
        b.build(0, 0, 0, psi);
    }
    f.compact();
    return f;
}

Forest Forest::from_arrays(std::uint32_t trees, std::uint32_t depth, std::uint32_t features,
                           double psi, std::vector<float> values,
                           std::vector<std::uint8_t> splits) {
    if (trees == 0 || depth == 0 || depth > kMaxDepth || features == 0 || features > kMaxFeatures ||
        !(psi >= 2))
        throw std::invalid_argument("forest parameters out of range");
    Forest f;
    f.m_trees = trees;
    f.m_depth = depth;
    f.m_features = features;
    f.m_nodes = (std::size_t{1} << (depth + 1)) - 1;
    f.m_psi = psi;
    f.m_norm = std::max(average_path_length(psi), 1e-9);
    if (values.size() != f.m_nodes * trees || splits.size() != values.size())
        throw std::invalid_argument("forest node arrays have the wrong size");
    // Every reachable node must be a leaf or split on a known feature, and no split may sit at the
    // depth limit (its children would lie outside the tree).
    const std::size_t first_bottom = (std::size_t{1} << depth) - 1;
    for (std::uint32_t t = 0; t < trees; ++t) {
        const std::uint8_t* s = splits.data() + t * f.m_nodes;
        const float* v = values.data() + t * f.m_nodes;
        for (std::size_t i = 0; i < f.m_nodes; ++i) {
            if (s[i] != kLeaf && (s[i] >= features || i >= first_bottom))
                throw std::invalid_argument("forest node has an invalid split");
            if (!std::isfinite(v[i]))
                throw std::invalid_argument("forest node value is not finite");
        }
    }
    f.m_values = std::move(values);
    f.m_splits = std::move(splits);
    f.compact();
    return f;
}

void Forest::compact() {
    m_nodes_compact.clear();
    m_tree_start.clear();
    m_tree_start.reserve(m_trees);
    std::vector<std::size_t> order; // implicit indices in compact order (BFS per tree)
    for (std::uint32_t t = 0; t < m_trees; ++t) {
        const float* v = m_values.data() + t * m_nodes;
        const std::uint8_t* s = m_splits.data() + t * m_nodes;
        m_tree_start.push_back(static_cast<std::uint32_t>(m_nodes_compact.size()));
        // Breadth first: a node's two children get consecutive slots.
        order.assign(1, 0);
        for (std::size_t k = 0; k < order.size(); ++k) {
            const std::size_t i = order[k];
            // A leaf links to itself through the sink feature (always -inf, never >= its path
            // length), so scoring can take exactly `depth` steps per tree without a branch.
            Node n{v[i], kSink};
            if (s[i] != kLeaf) { // the left child's slot is order.size(), this node's k
                n.link = (static_cast<std::uint32_t>(order.size() - k) << 8) | s[i];
                order.push_back(2 * i + 1);
                order.push_back(2 * i + 2);
            }
            m_nodes_compact.push_back(n);
        }
    }
}

double Forest::mean_path(const double* x) const noexcept {
    std::array<float, kMaxFeatures + 1> xf{};
    for (std::uint32_t i = 0; i < m_features; ++i)
        xf[i] = static_cast<float>(x[i]);
    xf[kSink] = -std::numeric_limits<float>::infinity();
    const Node* nodes = m_nodes_compact.data();
    // Level by level across a group of trees: the loads of one level are independent of each
    // other, so a forest that is not in cache (iots-detect with many series, each with its own
    // forest) costs about `depth` memory latencies per group rather than per tree or four.
    constexpr std::uint32_t kBlock = 128;
    std::array<std::uint32_t, kBlock> at{};
    double sum = 0;
    for (std::uint32_t t0 = 0; t0 < m_trees; t0 += kBlock) {
        const std::uint32_t nb = std::min(kBlock, m_trees - t0);
        for (std::uint32_t i = 0; i < nb; ++i)
            at[i] = m_tree_start[t0 + i];
        for (std::uint32_t k = 0; k < m_depth; ++k)
            for (std::uint32_t i = 0; i < nb; ++i) {
                const Node n = nodes[at[i]]; // right child: left + 1
                at[i] += (n.link >> 8) + static_cast<std::uint32_t>(xf[n.link & 0xFFU] >= n.value);
            }
        // The same order of additions as four trees at a time, then one by one.
        std::uint32_t i = 0;
        for (; i + 4 <= nb; i += 4)
            sum += static_cast<double>(nodes[at[i]].value) +
                   static_cast<double>(nodes[at[i + 1]].value) +
                   static_cast<double>(nodes[at[i + 2]].value) +
                   static_cast<double>(nodes[at[i + 3]].value);
        for (; i < nb; ++i)
            sum += static_cast<double>(nodes[at[i]].value);
    }
    return sum / static_cast<double>(m_trees);
}

double Forest::score(const double* x) const noexcept {
    if (m_trees == 0)
        return 0;
    return std::exp2(-mean_path(x) / m_norm);
}

std::vector<double> Forest::score_batch(Points X) const {
    if (!empty() && X.cols > 0 && X.rows != m_features)
        throw std::invalid_argument("isolation forest: points have " + std::to_string(X.rows) +
                                    " features, the forest " + std::to_string(m_features));
    std::vector<double> out(X.cols);
    for (std::size_t j = 0; j < X.cols; ++j)
        out[j] = score(X.point(j));
    return out;
}

} // namespace iots::detect
