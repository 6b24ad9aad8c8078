#include "iotshield/store/downsample.hpp"

#include <algorithm>

namespace iots::store {

namespace {
// Bucket of t in [from, to): b = (t - from) * buckets / span, clamped to [0, buckets - 1].
// span * buckets stays far below 2^63 for any span the API accepts (400 days x 2500 buckets).
std::size_t bucket_of(std::int64_t ts, std::int64_t from, std::int64_t span, std::size_t buckets) {
    const auto offset = std::clamp<std::int64_t>(ts - from, 0, span - 1);
    return static_cast<std::size_t>(offset * static_cast<std::int64_t>(buckets) / span);
}
} // namespace

std::vector<SeriesPoint> downsample_min_max(const std::vector<SeriesPoint>& points,
                                            std::int64_t from, std::int64_t to,
                                            std::size_t max_points) {
    // The plain reference: group by bucket, then emit each bucket's min and max in time order.
    if (points.size() <= max_points || max_points < 2)
        return points;
    const std::size_t buckets = max_points / 2;
    const std::int64_t span = std::max<std::int64_t>(1, to - from);
    std::vector<std::vector<std::size_t>> members(buckets);
    for (std::size_t i = 0; i < points.size(); ++i)
        members[bucket_of(points[i].ts, from, span, buckets)].push_back(i);
    std::vector<SeriesPoint> out;
    for (const auto& m : members) {
        if (m.empty())
            continue;
        std::size_t lo = m.front(), hi = m.front();
        for (const auto i : m) {
            if (points[i].value < points[lo].value)
                lo = i;
            if (points[i].value > points[hi].value)
                hi = i;
        }
        out.push_back(points[std::min(lo, hi)]);
        if (lo != hi)
            out.push_back(points[std::max(lo, hi)]);
    }
    return out;
}

MinMaxDownsampler::MinMaxDownsampler(std::int64_t from, std::int64_t to, std::size_t max_points)
    : m_from(from), m_span(std::max<std::int64_t>(1, to - from)),
      m_max(std::max<std::size_t>(2, max_points)), m_buckets(m_max / 2) {}

void MinMaxDownsampler::add(SeriesPoint p) {
    ++m_count;
    if (!m_bucketing) {
        m_raw.push_back(p);
        if (m_raw.size() <= m_max)
            return;
        m_bucketing = true; // too many: replay what was kept into buckets, then stream
        for (const auto& q : m_raw)
            bucket(q);
        m_raw.clear();
        m_raw.shrink_to_fit();
        return;
    }
    bucket(p);
}

void MinMaxDownsampler::bucket(SeriesPoint p) {
    ++m_seq; // position in the input, which orders a bucket's min and max
    const auto b = bucket_of(p.ts, m_from, m_span, m_buckets);
    if (!m_open || b != m_current) {
        flush();
        m_open = true;
        m_current = b;
        m_lo = m_hi = p;
        m_lo_i = m_hi_i = m_seq;
        return;
    }
    if (p.value < m_lo.value) {
        m_lo = p;
        m_lo_i = m_seq;
    }
    if (p.value > m_hi.value) {
        m_hi = p;
        m_hi_i = m_seq;
    }
}

void MinMaxDownsampler::flush() {
    if (!m_open)
        return;
    if (m_lo_i == m_hi_i) {
        m_out.push_back(m_lo);
    } else if (m_lo_i < m_hi_i) {
        m_out.push_back(m_lo);
        m_out.push_back(m_hi);
    } else {
        m_out.push_back(m_hi);
        m_out.push_back(m_lo);
    }
    m_open = false;
}

std::vector<SeriesPoint> MinMaxDownsampler::finish() {
    if (!m_bucketing)
        return std::move(m_raw);
    flush();
    return std::move(m_out);
}

} // namespace iots::store
