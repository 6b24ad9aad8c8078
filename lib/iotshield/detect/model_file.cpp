#include "iotshield/detect/model_file.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/detect/file_format.hpp"
#include "iotshield/detect/raw_state.hpp"
#include "iotshield/record/sensor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace iots::detect {

namespace {
constexpr std::string_view kModelMagic = "IOTSMODL";
constexpr std::uint32_t kMaxSeries = 1U << 20;
constexpr std::string_view kNameRule = "1-64 characters of A-Z a-z 0-9 _ . -";
// Version 3 has no zone: its profiles were learnt in UTC. Versions 3 and 4 have no tails.
constexpr std::uint32_t kFirstVersionRead = 3;

// The characters of tz database names ("America/Argentina/Buenos_Aires", "Etc/GMT+5").
bool valid_zone_name(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '/' || c == '_' || c == '-' || c == '+' || c == '.';
    });
}

using Writer = ByteWriter;

std::string join_features() {
    std::string s;
    for (auto f : feature_names()) {
        if (!s.empty())
            s += ',';
        s.append(f);
    }
    return s;
}

// Unmaps at scope exit. iots-train replaces a model by rename(2), so a mapped file never
// shrinks under the reader (a truncation in place would be SIGBUS).
struct Mapping {
    void* addr;
    std::size_t length;
    Mapping(void* a, std::size_t n) : addr(a), length(n) {}
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() { ::munmap(addr, length); }
};

// A fitted tail: u8 ready (0 or 1); if 1, the half-octave histogram (f32 each) and the counts.
void write_tail(Writer& p, const TailFit& t) {
    const TailFit::Fields f = t.fields();
    p.u8(f.ready ? 1 : 0);
    if (!f.ready)
        return;
    for (float c : f.hist)
        p.f32(c);
    for (double v : {f.all, f.t, f.n, f.peaks, f.excess, f.clusters})
        p.f64(v);
}

void read_tail(ByteReader& r, TailFit& t, const std::string& what) {
    TailFit::Fields f;
    const std::uint8_t ready = r.u8("tail flag");
    if (ready > 1)
        r.fail(fmt::format("corrupt: {}: tail flag {} is neither 0 nor 1", what, ready));
    f.ready = ready == 1;
    if (f.ready) {
        for (float& c : f.hist)
            c = r.f32("tail histogram");
        for (double* v : {&f.all, &f.t, &f.n, &f.peaks, &f.excess, &f.clusters})
            *v = r.f64("tail count");
    }
    if (!t.set_fields(f))
        r.fail(fmt::format("corrupt: {}: a tail holds impossible counts", what));
}

} // namespace

std::string encode_model(const Model& model) {
    Writer p;
    p.u32(static_cast<std::uint32_t>(kFeatures));
    for (auto f : feature_names())
        p.str(f);
    p.u32(model.params.trees);
    p.u32(model.params.subsample);
    p.u32(model.params.depth);
    p.u64(model.params.seed);
    p.f64(model.false_alarm_rate);
    p.u8(static_cast<std::uint8_t>(model.scope));
    p.i64(model.train_from);
    p.i64(model.train_to);
    p.str(model.zone);
    p.u32(static_cast<std::uint32_t>(model.series.size()));
    for (const auto& s : model.series) {
        p.str(s.device);
        p.str(s.sensor);
        p.u64(s.rows);
        p.i64(s.first_ts);
        p.i64(s.last_ts);
        p.f64(s.threshold);
        p.f64(s.levels.z);
        p.f64(s.levels.spike);
        p.u32(static_cast<std::uint32_t>(s.levels.stuck_min));
        p.f64(s.levels.heat_c);
        p.f64(s.normal_min);
        p.f64(s.normal_max);
        p.i64(s.interval_ms);
        for (double q : s.score_quantiles)
            p.f64(q);
        p.u8(s.profile.binary ? 1 : 0);
        p.f64(s.profile.interval_ms);
        p.f64(s.profile.limit);
        p.f64(s.profile.median);
        p.f64(s.profile_train_max);
        for (float v : s.profile.centre)
            p.f32(v);
        for (float v : s.profile.spread)
            p.f32(v);
        p.u8(s.activity.empty() ? 0 : 1);
        if (!s.activity.empty())
            for (float v : s.activity.limit)
                p.f32(v);
        p.u32(s.kmeans.models);
        for (std::uint32_t m = 0; m < s.kmeans.models; ++m) {
            for (const auto& c : s.kmeans.centres[m])
                for (float v : c)
                    p.f32(v);
            p.f64(s.kmeans.level[m]);
        }
        for (const TailFit& t : s.tails)
            write_tail(p, t);
        const Forest& f = s.forest;
        p.u32(f.trees());
        p.u32(f.depth());
        p.u32(f.features());
        p.f64(f.psi());
        p.u64(f.values().size());
        for (float v : f.values())
            p.f32(v);
        for (std::uint8_t b : f.splits())
            p.u8(b);
    }
    return frame(kModelMagic, Model::kFormatVersion, p.out());
}

Model decode_model(std::string_view bytes, std::string_view name) {
    std::uint32_t version = 0;
    ByteReader r(unframe(bytes, kModelMagic, kFirstVersionRead, Model::kFormatVersion, "model",
                         name, &version),
                 "model", name);
    const std::uint32_t nf = r.u32("feature count");
    std::string features;
    for (std::uint32_t i = 0; i < nf && i < 64; ++i) {
        if (!features.empty())
            features += ',';
        features += r.str("feature name");
    }
    if (nf != kFeatures || features != join_features()) {
        for (char& c : features)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                c = '?';
        r.fail(fmt::format("feature list differs from this build's (model: {}; build: {})",
                           features, join_features()));
    }
    Model m;
    m.params.trees = r.u32("trees");
    m.params.subsample = r.u32("subsample");
    m.params.depth = r.u32("depth");
    m.params.seed = r.u64("seed");
    m.false_alarm_rate = r.f64("false_alarm_rate");
    const std::uint8_t scope = r.u8("scope");
    if (scope > 1)
        r.fail(fmt::format("corrupt: scope {} is neither series (0) nor kind (1)", scope));
    m.scope = static_cast<Scope>(scope);
    m.train_from = r.i64("train_from");
    m.train_to = r.i64("train_to");
    // Like a series' times below: what reads them may add to them (a reading after the training).
    if (!valid_time(m.train_from) || !valid_time(m.train_to) || m.train_from > m.train_to)
        r.fail(fmt::format("corrupt: train_from {} or train_to {} out of range", m.train_from,
                           m.train_to));
    if (version >= 4) {
        m.zone = r.str("zone");
        if (!valid_zone_name(m.zone))
            r.fail("corrupt: zone is not an IANA time zone name");
    }
    const std::uint32_t count = r.u32("series count");
    if (count > kMaxSeries)
        r.fail(fmt::format("corrupt: series count {} (at most {})", count, kMaxSeries));
    // No reserve(count): the count is the file's word, and a SeriesModel is kilobytes (its tails),
    // so a damaged count would allocate gigabytes before the reader finds the file too short.
    for (std::uint32_t i = 0; i < count; ++i) {
        SeriesModel s;
        s.device = r.str("device");
        s.sensor = r.str("sensor");
        s.rows = r.u64("rows");
        s.first_ts = r.i64("first_ts");
        s.last_ts = r.i64("last_ts");
        s.threshold = r.f64("threshold");
        s.levels.z = r.f64("z level");
        s.levels.spike = r.f64("spike level");
        const std::uint32_t stuck = r.u32("stuck_min");
        s.levels.stuck_min = static_cast<int>(std::min<std::uint32_t>(stuck, 1U << 30));
        s.levels.heat_c = r.f64("heat level");
        s.normal_min = r.f64("normal_min");
        s.normal_max = r.f64("normal_max");
        s.interval_ms = r.i64("interval");
        for (double& q : s.score_quantiles)
            q = r.f64("score quantile");
        // Names are checked before any message shows them: a damaged file must not put a line
        // break or an escape sequence on the terminal.
        if (!s.device.empty() && !record::valid_name(s.device))
            r.fail(fmt::format("corrupt: series {}: device is not {}", i, kNameRule));
        if (!record::valid_name(s.sensor))
            r.fail(fmt::format("corrupt: series {}: sensor is not {}", i, kNameRule));
        const std::string what = fmt::format("series {} ({}/{})", i, s.device, s.sensor);
        // Spans of time are differences of these: beyond valid_time they could overflow.
        if (!valid_time(s.first_ts) || !valid_time(s.last_ts) || s.first_ts > s.last_ts ||
            !valid_time(s.interval_ms) || s.interval_ms < 0)
            r.fail(fmt::format("corrupt: {}: first_ts {}, last_ts {} or interval {} out of range",
                               what, s.first_ts, s.last_ts, s.interval_ms));
        if (!(s.threshold > 0 && s.threshold <= 1))
            r.fail(fmt::format("corrupt: {}: threshold {} outside (0, 1]", what, s.threshold));
        const std::uint8_t binary = r.u8("profile kind");
        if (binary > 1)
            r.fail(fmt::format("corrupt: {}: profile kind {} is neither numeric (0) nor binary (1)",
                               what, binary));
        s.profile.binary = binary == 1;
        s.profile.interval_ms = r.f64("profile interval");
        s.profile.limit = r.f64("profile limit");
        s.profile.median = r.f64("profile median");
        s.profile_train_max = r.f64("profile training maximum");
        if (!(s.profile.interval_ms >= 1) || s.profile.limit < 0)
            r.fail(fmt::format("corrupt: {}: profile interval {} or limit {} out of range", what,
                               s.profile.interval_ms, s.profile.limit));
        for (float& v : s.profile.centre)
            v = r.f32("profile centre");
        for (float& v : s.profile.spread) {
            v = r.f32("profile spread");
            if (!s.profile.binary && !s.profile.empty() && !(v > 0))
                r.fail(fmt::format("corrupt: {}: profile spread {} is not positive", what, v));
        }
        const std::uint8_t has_activity = r.u8("activity flag");
        if (has_activity > 1)
            r.fail(fmt::format("corrupt: {}: activity flag {} is neither 0 nor 1", what,
                               has_activity));
        if (has_activity == 1)
            for (float& v : s.activity.limit) {
                v = r.f32("activity level");
                if (!(v > 0))
                    r.fail(fmt::format("corrupt: {}: activity level {} is not positive", what, v));
            }
        const std::uint32_t kmodels = r.u32("k-means models");
        if (kmodels != 0 && kmodels != kKmeansModels)
            r.fail(fmt::format("corrupt: {}: {} k-means models (this build uses 0 or {})", what,
                               kmodels, kKmeansModels));
        s.kmeans.models = kmodels;
        for (std::uint32_t k = 0; k < kmodels; ++k) {
            for (auto& c : s.kmeans.centres[k])
                for (float& v : c)
                    v = r.f32("k-means centre");
            s.kmeans.level[k] = r.f64("k-means level");
            if (!(s.kmeans.level[k] > 0))
                r.fail(fmt::format("corrupt: {}: k-means level {} is not positive", what,
                                   s.kmeans.level[k]));
        }
        if (version >= 5)
            for (TailFit& t : s.tails)
                read_tail(r, t, what);
        const std::uint32_t trees = r.u32("forest trees");
        const std::uint32_t depth = r.u32("forest depth");
        const std::uint32_t nfeat = r.u32("forest features");
        const double psi = r.f64("forest psi");
        const std::uint64_t nodes = r.u64("forest node count");
        if (nodes > r.left() / 5)
            r.fail(fmt::format("corrupt: {}: {} nodes do not fit in the {} bytes left", what, nodes,
                               r.left()));
        const auto n = static_cast<std::size_t>(nodes);
        std::vector<float> values(n);
        const auto vbytes = r.raw(n * 4, "forest values");
        if constexpr (std::endian::native == std::endian::little) { // the file's byte order
            if (n != 0) // an empty forest: values.data() may be null, even for 0 bytes
                std::memcpy(values.data(), vbytes.data(), n * 4);
        } else {
            for (std::size_t k = 0; k < n; ++k) {
                std::uint32_t u = 0;
                for (std::size_t b = 0; b < 4; ++b)
                    u |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(vbytes[4 * k + b]))
                         << (8 * b);
                values[k] = std::bit_cast<float>(u);
            }
        }
        const auto sbytes = r.raw(n, "forest splits");
        std::vector<std::uint8_t> splits(sbytes.begin(), sbytes.end());
        try {
            s.forest =
                Forest::from_arrays(trees, depth, nfeat, psi, std::move(values), std::move(splits));
        } catch (const std::invalid_argument& e) {
            r.fail(fmt::format("corrupt: {}: {}", what, e.what()));
        }
        m.series.push_back(std::move(s));
    }
    if (!r.done())
        r.fail(fmt::format("corrupt: {} unread bytes at the end of the payload", r.left()));
    return m;
}

Model load_model(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error(Exit::no_input, fmt::format("model {}: {}", path, std::strerror(errno)));
    // A model is tens of MB: a regular file is mapped (the page cache's own pages, no copy);
    // anything else is read into a buffer of the file's size.
    struct stat st {};
    const bool have_stat = ::fstat(fd, &st) == 0;
    if (have_stat && S_ISREG(st.st_mode) && st.st_size > 0) {
        const auto length = static_cast<std::size_t>(st.st_size);
        void* map = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (map != MAP_FAILED) {
            ::close(fd);
            const Mapping unmap{map, length};
            return decode_model(std::string_view(static_cast<const char*>(map), length), path);
        }
    }
    std::string bytes;
    try {
        bytes = read_fd(fd, have_stat && st.st_size > 0 ? static_cast<std::size_t>(st.st_size) : 0,
                        "model", path);
    } catch (const Error&) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    return decode_model(bytes, path);
}

void save_model(const std::string& path, const Model& model) {
    write_file_atomic(path, encode_model(model), "model");
}

} // namespace iots::detect
