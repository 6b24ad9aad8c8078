#pragma once
// Isolation Forest (Liu, Ting, Zhou, ICDM 2008) with trees stored as flat, implicit complete
// binary trees: node i has children 2i+1 and 2i+2, so scoring one point follows array indices
// and allocates nothing. score(x) = 2^(-E[h(x)] / c(psi)).
#include "iotshield/detect/params.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace iots::detect {

// Average path length of an unsuccessful search in a binary search tree of n points:
// c(n) = 2 H(n-1) - 2 (n-1) / n, H(i) ~ ln(i) + 0.5772156649; c(1) = 0, c(2) = 1.
[[nodiscard]] double average_path_length(double n) noexcept;

// Points as the columns of a column-major matrix the caller owns: point j's `rows` features start
// at data + j * rows (the layout of a flat feature array, or of an Armadillo or Eigen matrix).
struct Points {
    const double* data = nullptr;
    std::size_t rows = 0; // features per point
    std::size_t cols = 0; // points
    [[nodiscard]] const double* point(std::size_t j) const noexcept { return data + j * rows; }
    [[nodiscard]] double at(std::size_t feature, std::size_t j) const noexcept {
        return data[j * rows + feature];
    }
};

class Forest {
public:
    static constexpr std::uint8_t kLeaf = 0xFF;

    Forest() = default;
    // Trains on the points of X. Deterministic for a given seed. Throws std::invalid_argument on
    // no points or features, or parameters out of range.
    static Forest train(Points X, const ForestParams& params);
    // Builds from stored arrays (model file); throws std::invalid_argument if they do not fit.
    static Forest from_arrays(std::uint32_t trees, std::uint32_t depth, std::uint32_t features,
                              double psi, std::vector<float> values,
                              std::vector<std::uint8_t> splits);

    // x has features() entries. No allocation.
    [[nodiscard]] double score(const double* x) const noexcept;
    // Mean path length over the trees (E[h(x)]).
    [[nodiscard]] double mean_path(const double* x) const noexcept;
    // score() of each point of X (X.rows == features()).
    [[nodiscard]] std::vector<double> score_batch(Points X) const;

    [[nodiscard]] bool empty() const noexcept { return m_trees == 0; }
    [[nodiscard]] std::uint32_t trees() const noexcept { return m_trees; }
    [[nodiscard]] std::uint32_t depth() const noexcept { return m_depth; }
    [[nodiscard]] std::uint32_t features() const noexcept { return m_features; }
    [[nodiscard]] double psi() const noexcept { return m_psi; }
    [[nodiscard]] std::size_t nodes_per_tree() const noexcept { return m_nodes; }
    // Per node: split threshold, or the path length h = depth + c(size) for a leaf.
    [[nodiscard]] const std::vector<float>& values() const noexcept { return m_values; }
    // Per node: split feature, or kLeaf.
    [[nodiscard]] const std::vector<std::uint8_t>& splits() const noexcept { return m_splits; }

private:
    // The scoring layout: only the reachable nodes of each tree, breadth first, 8 bytes each, the
    // right child right after the left one. Built from the implicit arrays (which the model file
    // keeps), so both describe the same trees.
    struct Node {
        float value;        // split threshold, or the leaf's path length
        std::uint32_t link; // feature (a sink slot for a leaf) in the low 8 bits; above them how
                            // many slots after this node its left child is (a leaf: 0, itself;
                            // right = left + 1; depth <= 16 means at most 2^17 nodes a tree)
    };
    static_assert(sizeof(Node) == 8);
    void compact();

    std::uint32_t m_trees = 0;
    std::uint32_t m_depth = 0;
    std::uint32_t m_features = 0;
    std::size_t m_nodes = 0;
    double m_psi = 0;  // subsample size actually used
    double m_norm = 1; // c(psi)
    std::vector<float> m_values;
    std::vector<std::uint8_t> m_splits;
    std::vector<Node> m_nodes_compact;
    std::vector<std::uint32_t> m_tree_start; // first node of each tree in m_nodes_compact
};

} // namespace iots::detect
