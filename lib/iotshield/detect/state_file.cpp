#include "iotshield/detect/state_file.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/detect/file_format.hpp"
#include "iotshield/record/sensor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <map>
#include <type_traits>

namespace iots::detect {

namespace {
constexpr std::string_view kStateMagic = "IOTSSTAT";
constexpr std::uint8_t kNativeOrder = std::endian::native == std::endian::little ? 1 : 2;
constexpr std::uint32_t kMaxCount = 1U << 24;
constexpr std::uint32_t kMaxChunks = 1024;
constexpr std::size_t kVariableSize = 0;

// One layer of an owner's state (a series, a device).
template <class Owner> struct Layer {
    std::string_view tag;
    std::uint32_t version;
    std::size_t size; // kVariableSize: its load() checks the size
    bool native;      // raw bytes in this machine's byte order
    void (*save)(const Owner&, ByteWriter&);
    bool (*load)(Owner&, std::string_view); // false: not a state this build could have written
};

template <auto M> struct MemberOf;
template <class O, class T, T O::*M> struct MemberOf<M> {
    using Owner = O;
    using Type = T;
};

// A trivially copyable state as its raw bytes; on load, checked by its state_valid() when it has
// one before it replaces `out`.
template <class T> void save_raw(const T& t, ByteWriter& w) {
    static_assert(std::is_trivially_copyable_v<T>, "a raw layer is saved as its bytes");
    w.raw(std::string_view(reinterpret_cast<const char*>(&t), sizeof(T)));
}
template <class T> bool load_raw(T& out, std::string_view bytes) {
    T t;
    std::memcpy(static_cast<void*>(&t), bytes.data(), sizeof(T));
    if constexpr (requires { t.state_valid(); })
        if (!t.state_valid())
            return false;
    out = t;
    return true;
}

// A member saved as its raw bytes, versioned by its type's kStateVersion.
template <auto M> constexpr Layer<typename MemberOf<M>::Owner> raw_layer(std::string_view tag) {
    using O = typename MemberOf<M>::Owner;
    using T = typename MemberOf<M>::Type;
    return {tag,
            T::kStateVersion,
            sizeof(T),
            true,
            [](const O& o, ByteWriter& w) { save_raw(o.*M, w); },
            [](O& o, std::string_view bytes) { return load_raw(o.*M, bytes); }};
}

// A member saved as its raw bytes, or as nothing while it is as a fresh one (a layer that a kind
// of series never uses, such as the change of variance of a motion sensor, costs it its chunk's
// header only); nothing loads as a fresh one. A build before these wrote the bytes always: they
// load as raw_layer's.
template <auto M>
constexpr Layer<typename MemberOf<M>::Owner> sparse_raw_layer(std::string_view tag) {
    using O = typename MemberOf<M>::Owner;
    using T = typename MemberOf<M>::Type;
    return {tag,
            T::kStateVersion,
            kVariableSize,
            true,
            [](const O& o, ByteWriter& w) {
                static const T fresh{};
                if (std::memcmp(static_cast<const void*>(&(o.*M)), static_cast<const void*>(&fresh),
                                sizeof(T)) != 0)
                    save_raw(o.*M, w);
            },
            [](O& o, std::string_view bytes) {
                if (bytes.empty()) {
                    o.*M = T{};
                    return true;
                }
                return bytes.size() == sizeof(T) && load_raw(o.*M, bytes);
            }};
}

using Series = Detector::Series;

// The event flags of Detector::Series, field by field.
constexpr std::size_t kOnsetsSize = 3 * (1 + 4);
void save_onsets(const Series& s, ByteWriter& w) {
    for (const auto& [event, quiet] :
         {std::pair{s.event, s.quiet}, std::pair{s.profile_event, s.profile_quiet},
          std::pair{s.activity_event, s.activity_quiet}}) {
        w.u8(event ? 1 : 0);
        w.u32(quiet);
    }
}
bool load_onsets(Series& s, std::string_view bytes) {
    ByteReader r(bytes, "state", "");
    for (auto [event, quiet] :
         {std::pair{&s.event, &s.quiet}, std::pair{&s.profile_event, &s.profile_quiet},
          std::pair{&s.activity_event, &s.activity_quiet}}) {
        const std::uint8_t e = r.u8("event");
        const std::uint32_t q = r.u32("quiet");
        if (e > 1 || q > 0xFFFFU)
            return false;
        *event = e == 1;
        *quiet = static_cast<std::uint16_t>(q);
    }
    return true;
}

// The layers of a series, in file order. Adding a layer is one line here (a trivially copyable
// struct with a kStateVersion, under a new tag); changing a layer's struct means bumping its
// kStateVersion, so that an older file's chunk is dropped instead of misread.
constexpr std::array kSeriesLayers{
    raw_layer<&Series::state>("streaming"),
    raw_layer<&Series::profile>("profile"),
    raw_layer<&Series::activity>("activity"),
    sparse_raw_layer<&Series::learnt_activity>("learnt-activity"),
    raw_layer<&Series::kmeans>("kmeans"),
    raw_layer<&Series::online>("online"),
    sparse_raw_layer<&Series::day>("day"),
    sparse_raw_layer<&Series::variance>("variance"),
    raw_layer<&Series::last>("verdict"),
    Layer<Series>{"onsets", 1, kOnsetsSize, false, save_onsets, load_onsets},
};
static_assert(
    [] {
        for (std::size_t i = 0; i < kSeriesLayers.size(); ++i)
            for (std::size_t j = 0; j < i; ++j)
                if (kSeriesLayers[i].tag == kSeriesLayers[j].tag)
                    return false;
        return true;
    }(),
    "each layer of a series has a tag of its own");

// Per-device layers: the joint layer's state, the channels it uses only (JointState::save).
using Device = JointState;
constexpr std::array kDeviceLayers{
    Layer<Device>{"joint", JointState::kStateVersion, kVariableSize, false,
                  [](const Device& d, ByteWriter& w) { d.save(w); },
                  [](Device& d, std::string_view bytes) { return d.load(bytes); }}};

template <class Owner, std::size_t N>
void write_chunks(ByteWriter& w, const Owner& owner, const std::array<Layer<Owner>, N>& layers) {
    w.u32(static_cast<std::uint32_t>(N));
    for (const auto& layer : layers) {
        w.str(layer.tag);
        w.u32(layer.version);
        w.u64(layer.size);
        const std::size_t before = w.out().size();
        layer.save(owner, w);
        if (layer.size == kVariableSize) {
            const std::uint64_t size = w.out().size() - before;
            for (int i = 0; i < 8; ++i) // the size field, written before the bytes were known
                w.out()[before - 8 + static_cast<std::size_t>(i)] =
                    static_cast<char>((size >> (8 * i)) & 0xFFU);
        } else if (w.out().size() - before != layer.size)
            throw std::logic_error(fmt::format("state layer {}: size", layer.tag));
    }
}

// Counts per note and kind of owner ("series", "devices"), so that 1000 series dropping one layer
// make one line.
using Notes = std::map<std::pair<std::string, std::string_view>, std::size_t>;

template <class Owner, std::size_t N>
void read_chunks(ByteReader& r, Owner& owner, const std::array<Layer<Owner>, N>& layers,
                 std::string_view what, std::string_view owners, bool native, Notes& notes) {
    const std::uint32_t count = r.u32("chunk count");
    if (count > kMaxChunks)
        r.fail(fmt::format("corrupt: {}: {} layers (at most {})", what, count, kMaxChunks));
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::string tag = r.str("layer tag");
        if (!record::valid_name(tag))
            r.fail(fmt::format("corrupt: {}: a layer tag is not a name", what));
        const std::uint32_t version = r.u32("layer version");
        const std::uint64_t size = r.u64("layer size");
        if (size > r.left())
            r.fail(
                fmt::format("corrupt: {}: layer '{}' runs past the end of the payload", what, tag));
        const std::string_view bytes = r.raw(static_cast<std::size_t>(size), "layer");
        const auto* layer =
            std::find_if(layers.begin(), layers.end(), [&](const auto& l) { return l.tag == tag; });
        if (layer == layers.end())
            ++notes[{fmt::format("layer '{}' is unknown to this build: skipped", tag), owners}];
        else if (version != layer->version)
            ++notes[{fmt::format("layer '{}' is of version {} (this build's: {}): starts afresh",
                                 tag, version, layer->version),
                     owners}];
        else if (layer->size != kVariableSize && size != layer->size)
            ++notes[{fmt::format("layer '{}' is {} bytes (this build's: {}): starts afresh", tag,
                                 size, layer->size),
                     owners}];
        else if (layer->native && !native)
            ++notes[{
                fmt::format("layer '{}' was written in another byte order: starts afresh", tag),
                owners}];
        else if (!layer->load(owner, bytes))
            r.fail(fmt::format("corrupt: {}: layer '{}' holds an impossible state", what, tag));
    }
}
} // namespace

// Detector's private parts, for this file only.
struct StateAccess {
    static std::vector<std::pair<const std::string*, const Series*>> series(const Detector& d) {
        std::vector<std::pair<const std::string*, const Series*>> out;
        out.reserve(d.m_series.size());
        for (const auto& [key, s] : d.m_series)
            out.emplace_back(&key, s.get());
        // Sorted: the same detector makes the same file.
        std::sort(out.begin(), out.end(),
                  [](const auto& a, const auto& b) { return *a.first < *b.first; });
        return out;
    }
    static Series& find_or_add(Detector& d, std::string_view device, std::string_view sensor) {
        d.m_key.assign(device).append(1, '/').append(sensor);
        auto it = d.m_series.find(std::string_view(d.m_key));
        if (it == d.m_series.end())
            it = d.add_series(device, sensor);
        return *it->second;
    }
    static std::vector<std::pair<const std::string*, const Device*>> devices(const Detector& d) {
        std::vector<std::pair<const std::string*, const Device*>> out;
        d.m_joint.for_each_device(
            [&](const std::string& name, const JointState& j) { out.emplace_back(&name, &j); });
        std::sort(out.begin(), out.end(),
                  [](const auto& a, const auto& b) { return *a.first < *b.first; });
        return out;
    }
    static Device* device(Detector& d, std::string_view name) {
        return &d.m_joint.device_state(name);
    }
};

std::string encode_state(const Detector& detector, core::Millis written_at) {
    ByteWriter w;
    w.i64(written_at);
    w.u8(kNativeOrder);
    const auto series = StateAccess::series(detector);
    w.u32(static_cast<std::uint32_t>(series.size()));
    for (const auto& [key, s] : series) {
        const std::string_view k = *key;
        const std::size_t slash = k.find('/');
        w.str(k.substr(0, slash));
        w.str(k.substr(slash + 1));
        write_chunks(w, *s, kSeriesLayers);
    }
    const auto devices = StateAccess::devices(detector);
    w.u32(static_cast<std::uint32_t>(devices.size()));
    for (const auto& [key, d] : devices) {
        w.str(*key);
        write_chunks(w, *d, kDeviceLayers);
    }
    return frame(kStateMagic, kStateFormatVersion, w.out());
}

StateInfo decode_state(std::string_view bytes, std::string_view name, Detector& detector) {
    ByteReader r(unframe(bytes, kStateMagic, kStateFormatVersion, "state", name), "state", name);
    StateInfo info;
    info.written_at = r.i64("written_at");
    const std::uint8_t order = r.u8("byte order");
    if (order != 1 && order != 2)
        r.fail(fmt::format("corrupt: byte order {} is neither 1 nor 2", order));
    const bool native = order == kNativeOrder;
    Notes notes;
    const std::uint32_t nseries = r.u32("series count");
    if (nseries > kMaxCount)
        r.fail(fmt::format("corrupt: series count {} (at most {})", nseries, kMaxCount));
    for (std::uint32_t i = 0; i < nseries; ++i) {
        const std::string device = r.str("device");
        const std::string sensor = r.str("sensor");
        // Checked before any message shows them: no line break or escape reaches the terminal.
        if (!record::valid_name(device) || !record::valid_name(sensor))
            r.fail(fmt::format("corrupt: series {}: a name is not 1-64 characters of A-Z a-z 0-9 "
                               "_ . -",
                               i));
        Series& s = StateAccess::find_or_add(detector, device, sensor);
        read_chunks(r, s, kSeriesLayers, fmt::format("series {}/{}", device, sensor), "series",
                    native, notes);
        // The safety thresholds a series gets follow from its sensor's name in this build.
        const record::SensorKind kind = record::sensor_kind(sensor);
        if (s.state.kind() != kind) {
            s.state = SeriesState(kind);
            ++notes[{"layer 'streaming' was of another sensor kind: starts afresh", "series"}];
        }
    }
    const std::uint32_t ndevices = r.u32("device count");
    if (ndevices > kMaxCount)
        r.fail(fmt::format("corrupt: device count {} (at most {})", ndevices, kMaxCount));
    Device none;
    for (std::uint32_t i = 0; i < ndevices; ++i) {
        const std::string device = r.str("device");
        if (!record::valid_name(device))
            r.fail(fmt::format("corrupt: device {}: not 1-64 characters of A-Z a-z 0-9 _ . -", i));
        Device* d = StateAccess::device(detector, device);
        read_chunks(r, d != nullptr ? *d : none, kDeviceLayers, fmt::format("device {}", device),
                    "devices", native, notes);
    }
    if (!r.done())
        r.fail(fmt::format("corrupt: {} unread bytes at the end of the payload", r.left()));
    info.series = nseries;
    info.devices = ndevices;
    for (const auto& [note, n] : notes)
        info.notes.push_back(fmt::format("{} in {} {}", note.first, n, note.second));
    return info;
}

std::optional<StateInfo> load_state(const std::string& path, Detector& detector) {
    const auto bytes = read_file(path, "state", true);
    if (!bytes)
        return std::nullopt;
    return decode_state(*bytes, path, detector);
}

void save_state(const std::string& path, const Detector& detector, core::Millis written_at) {
    write_file_atomic(path, encode_state(detector, written_at), "state");
}

} // namespace iots::detect
