#include "iotshield/store/chunk_codec.hpp"

#include "iotshield/core/error.hpp"

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <map>

namespace iots::store {

namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kXor = 255;
constexpr int kMaxScale = 9;
constexpr std::array<double, kMaxScale + 1> kPow10{1e0, 1e1, 1e2, 1e3, 1e4,
                                                   1e5, 1e6, 1e7, 1e8, 1e9};

std::uint64_t zigzag(std::uint64_t v) noexcept {
    const auto s = static_cast<std::int64_t>(v);
    return (v << 1) ^ static_cast<std::uint64_t>(s >> 63);
}

std::uint64_t unzigzag(std::uint64_t z) noexcept {
    return (z >> 1) ^ (~(z & 1) + 1);
}

void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

class Reader {
public:
    Reader(std::int64_t start, std::string_view bytes) : m_start(start), m_bytes(bytes) {}

    [[noreturn]] void corrupt() const {
        throw Error(Exit::failure, "reading_chunks: the chunk at " + std::to_string(m_start) +
                                       " is damaged (byte " + std::to_string(m_at) + " of " +
                                       std::to_string(m_bytes.size()) + ")");
    }
    std::uint8_t byte() {
        if (m_at >= m_bytes.size())
            corrupt();
        return static_cast<std::uint8_t>(m_bytes[m_at++]);
    }
    std::uint64_t varint() {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            const std::uint8_t b = byte();
            v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
                return v;
        }
        corrupt();
    }
    std::string_view bytes(std::size_t n) {
        if (n > m_bytes.size() - m_at)
            corrupt();
        const auto s = m_bytes.substr(m_at, n);
        m_at += n;
        return s;
    }
    [[nodiscard]] bool done() const noexcept { return m_at == m_bytes.size(); }

private:
    std::int64_t m_start;
    std::string_view m_bytes;
    std::size_t m_at = 0;
};

// Integers as delta-of-delta, wrapping (any int64 round-trips).
void put_dod(std::string& out, const std::vector<std::uint64_t>& xs, std::uint64_t base) {
    std::uint64_t prev = base, prev_delta = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const std::uint64_t delta = xs[i] - prev;
        put_varint(out, zigzag(i == 0 ? delta : delta - prev_delta));
        prev = xs[i];
        prev_delta = delta;
    }
}

template <typename Set> void get_dod(Reader& in, std::size_t n, std::uint64_t base, Set set) {
    std::uint64_t prev = base, prev_delta = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t z = unzigzag(in.varint());
        const std::uint64_t delta = i == 0 ? z : prev_delta + z;
        prev += delta;
        prev_delta = delta;
        set(i, prev);
    }
}

std::uint64_t bits(double v) noexcept {
    return std::bit_cast<std::uint64_t>(v);
}

// The least scale that gives every value back exactly, or -1.
int decimal_scale(const std::vector<double>& xs) {
    for (int k = 0; k <= kMaxScale; ++k) {
        bool fits = true;
        for (const double v : xs) {
            const double m = std::nearbyint(v * kPow10[static_cast<std::size_t>(k)]);
            if (!(std::fabs(m) < 9007199254740992.0) ||
                bits(static_cast<double>(static_cast<std::int64_t>(m)) /
                     kPow10[static_cast<std::size_t>(k)]) != bits(v)) {
                fits = false;
                break;
            }
        }
        if (fits)
            return k;
    }
    return -1;
}

void put_numbers(std::string& out, const std::vector<double>& xs) {
    const int k = decimal_scale(xs);
    if (k >= 0) {
        out.push_back(static_cast<char>(k));
        std::int64_t prev = 0;
        for (const double v : xs) {
            const auto m =
                static_cast<std::int64_t>(std::nearbyint(v * kPow10[static_cast<std::size_t>(k)]));
            put_varint(out, zigzag(static_cast<std::uint64_t>(m - prev)));
            prev = m;
        }
        return;
    }
    out.push_back(static_cast<char>(kXor));
    std::uint64_t prev = 0;
    for (const double v : xs) {
        const std::uint64_t x = bits(v) ^ prev;
        prev = bits(v);
        if (x == 0) {
            out.push_back(0);
            continue;
        }
        const int lead = std::countl_zero(x) / 8, trail = std::countr_zero(x) / 8;
        out.push_back(static_cast<char>(1 + 8 * lead + trail));
        for (int b = 7 - lead; b >= trail; --b)
            out.push_back(static_cast<char>((x >> (8 * b)) & 0xff));
    }
}

template <typename Set> void get_numbers(Reader& in, std::size_t n, Set set) {
    const std::uint8_t mode = in.byte();
    if (mode <= kMaxScale) {
        const double p = kPow10[mode];
        std::uint64_t m = 0;
        for (std::size_t i = 0; i < n; ++i) {
            m += unzigzag(in.varint());
            set(i, static_cast<double>(static_cast<std::int64_t>(m)) / p);
        }
        return;
    }
    if (mode != kXor)
        in.corrupt();
    std::uint64_t prev = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t h = in.byte();
        if (h != 0) {
            if (h > 64)
                in.corrupt();
            const int lead = (h - 1) / 8, trail = (h - 1) % 8;
            if (lead + trail > 7)
                in.corrupt();
            std::uint64_t x = 0;
            for (int b = 7 - lead; b >= trail; --b)
                x |= static_cast<std::uint64_t>(in.byte()) << (8 * b);
            prev ^= x;
        }
        set(i, std::bit_cast<double>(prev));
    }
}

// Runs of small codes.
void put_runs(std::string& out, const std::vector<std::uint64_t>& codes) {
    for (std::size_t i = 0; i < codes.size();) {
        std::size_t j = i + 1;
        while (j < codes.size() && codes[j] == codes[i])
            ++j;
        put_varint(out, j - i);
        put_varint(out, codes[i]);
        i = j;
    }
}

template <typename Set> void get_runs(Reader& in, std::size_t n, Set set) {
    for (std::size_t i = 0; i < n;) {
        const std::uint64_t len = in.varint();
        const std::uint64_t code = in.varint();
        if (len == 0 || len > n - i)
            in.corrupt();
        for (std::uint64_t k = 0; k < len; ++k)
            set(i++, code);
    }
}

void put_texts(std::string& out, const std::vector<ChunkRow>& rows,
               std::optional<std::string> ChunkRow::*field) {
    std::map<std::string_view, std::uint64_t> index;
    std::vector<std::string_view> dict;
    std::vector<std::uint64_t> codes(rows.size(), 0);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& t = rows[i].*field;
        if (!t)
            continue;
        auto [it, fresh] = index.try_emplace(*t, dict.size() + 1);
        if (fresh)
            dict.push_back(*t);
        codes[i] = it->second;
    }
    put_varint(out, dict.size());
    for (const auto d : dict) {
        put_varint(out, d.size());
        out.append(d);
    }
    put_runs(out, codes);
}

void get_texts(Reader& in, std::vector<ChunkRow>& rows, std::size_t first,
               std::optional<std::string> ChunkRow::*field) {
    const std::uint64_t count = in.varint();
    std::vector<std::string_view> dict;
    for (std::uint64_t k = 0; k < count; ++k)
        dict.push_back(in.bytes(in.varint()));
    get_runs(in, rows.size() - first, [&](std::size_t i, std::uint64_t code) {
        if (code > dict.size())
            in.corrupt();
        if (code > 0)
            rows[first + i].*field = std::string(dict[code - 1]);
    });
}

} // namespace

std::string encode_chunk(std::int64_t start_ts, const std::vector<ChunkRow>& rows) {
    std::string out;
    out.reserve(16 + rows.size() * 4);
    out.push_back(static_cast<char>(kVersion));
    put_varint(out, rows.size());
    std::vector<std::uint64_t> ints(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i)
        ints[i] = static_cast<std::uint64_t>(rows[i].ts);
    put_dod(out, ints, static_cast<std::uint64_t>(start_ts));
    for (std::size_t i = 0; i < rows.size(); ++i)
        ints[i] = static_cast<std::uint64_t>(rows[i].seq);
    put_dod(out, ints, 0);
    std::vector<double> xs(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i)
        xs[i] = rows[i].value;
    put_numbers(out, xs);
    xs.clear();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        ints[i] = rows[i].score ? 1 : 0;
        if (rows[i].score)
            xs.push_back(*rows[i].score);
    }
    put_runs(out, ints);
    put_numbers(out, xs);
    for (std::size_t i = 0; i < rows.size(); ++i)
        ints[i] = rows[i].anomaly ? (*rows[i].anomaly ? 2 : 1) : 0;
    put_runs(out, ints);
    put_texts(out, rows, &ChunkRow::label);
    put_texts(out, rows, &ChunkRow::extra);
    return out;
}

void decode_chunk(std::int64_t start_ts, std::string_view bytes, std::vector<ChunkRow>& out,
                  ChunkFields fields) {
    Reader in(start_ts, bytes);
    if (in.byte() != kVersion)
        in.corrupt();
    const std::uint64_t n = in.varint();
    if (n > bytes.size()) // every reading takes a byte at least
        in.corrupt();
    const std::size_t first = out.size();
    out.resize(first + n);
    ChunkRow* rows = out.data() + first;
    get_dod(in, n, static_cast<std::uint64_t>(start_ts),
            [&](std::size_t i, std::uint64_t v) { rows[i].ts = static_cast<std::int64_t>(v); });
    get_dod(in, n, 0,
            [&](std::size_t i, std::uint64_t v) { rows[i].seq = static_cast<std::int64_t>(v); });
    get_numbers(in, n, [&](std::size_t i, double v) { rows[i].value = v; });
    if (fields == ChunkFields::keys_values)
        return;
    std::vector<std::size_t> scored;
    get_runs(in, n, [&](std::size_t i, std::uint64_t code) {
        if (code > 1)
            in.corrupt();
        if (code == 1)
            scored.push_back(i);
    });
    get_numbers(in, scored.size(), [&](std::size_t i, double v) { rows[scored[i]].score = v; });
    get_runs(in, n, [&](std::size_t i, std::uint64_t code) {
        if (code > 2)
            in.corrupt();
        if (code > 0)
            rows[i].anomaly = code == 2;
    });
    get_texts(in, out, first, &ChunkRow::label);
    get_texts(in, out, first, &ChunkRow::extra);
    if (!in.done())
        in.corrupt();
}

} // namespace iots::store
