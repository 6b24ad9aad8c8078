#pragma once
// Min-max downsampling of one series for the charts (Queries::readings): peaks and dips survive.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace iots::store {

struct SeriesPoint {
    std::int64_t ts = 0;
    double value = 0;
};

// Downsamples points sorted by ts to at most max_points: equal-time buckets over [from, to), each
// keeping its minimum and maximum in time order, so peaks and dips survive. max_points >= 2.
[[nodiscard]] std::vector<SeriesPoint> downsample_min_max(const std::vector<SeriesPoint>& points,
                                                          std::int64_t from, std::int64_t to,
                                                          std::size_t max_points);

// The same result as downsample_min_max, streaming: memory stays O(max_points) however many rows
// the range holds (a year of 1 s readings is 31 million).
class MinMaxDownsampler {
public:
    MinMaxDownsampler(std::int64_t from, std::int64_t to, std::size_t max_points);
    void add(SeriesPoint p); // in ts order
    [[nodiscard]] std::size_t count() const noexcept { return m_count; }
    [[nodiscard]] bool downsampling() const noexcept { return m_bucketing; }
    [[nodiscard]] std::vector<SeriesPoint> finish();

private:
    void bucket(SeriesPoint p);
    void flush();
    std::int64_t m_from, m_span;
    std::size_t m_max, m_buckets;
    std::size_t m_count = 0, m_seq = 0;
    bool m_bucketing = false, m_open = false;
    std::size_t m_current = 0, m_lo_i = 0, m_hi_i = 0;
    SeriesPoint m_lo, m_hi;
    std::vector<SeriesPoint> m_raw, m_out;
};

} // namespace iots::store
