#include "iotshield/detect/detector.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

namespace iots::detect {

namespace {
// The score of a reading where the day's summary is impossible: over the flag level (0.5).
constexpr double kDaySummaryScore = 0.75;

double ratio_score(double stat, double level) noexcept {
    if (!(level > 0) || !(stat > 0))
        return 0;
    const double r = stat / level;
    // An infinite statistic (a deviation over a spread of zero) is as far out as it gets, not NaN.
    return std::isinf(r) ? 1.0 : r / (1.0 + r);
}

double forest_score(double s, double threshold) noexcept {
    if (!(threshold > 0) || !(threshold < 1))
        return 0;
    if (s <= threshold)
        return 0.5 * s / threshold;
    return std::min(1.0, 0.5 + 0.5 * (s - threshold) / (1.0 - threshold));
}

// Whether a model statistic holds: above the model's level and, where its tail from training is
// ready, rarer on the training data than the budget `need` (ln 1/q per statistic) allows. The
// tail does not learn from the stream: the model's layers are fixed at training, and a tail that
// learnt would learn a slow failure (a heating that fails over hours) as it ramps up.
bool calibrated(const TailFit& tail, double stat, double level, double need) noexcept {
    if (!(stat > level))
        return false;
    if (!tail.ready())
        return true;
    const double cut = need + tail.log_extremal_index();
    return tail.surprise(stat, cut) > cut;
}
} // namespace

Detector::Detector(DetectorOptions options, const Model* model)
    : m_options(options), m_model(model), m_joint(options.joint) {}

namespace {
// A hash of the pair (not of the joined key: ("a/b", "c") and ("a", "b/c") may differ, and a
// miss then finds the series by its joined key).
std::uint64_t mix(std::uint64_t h, std::string_view s) noexcept {
    constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15;
    const char* p = s.data();
    std::size_t n = s.size();
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, p, sizeof w);
        h = (h ^ w) * kMul;
        h ^= h >> 29;
    }
    std::uint64_t w = 0;
    if (n > 0 && s.size() >= 8) { // the last eight bytes, overlapping the previous word
        std::memcpy(&w, s.data() + s.size() - 8, sizeof w);
    } else {
        for (std::size_t i = 0; i < n; ++i)
            w ^= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
    }
    h = (h ^ w ^ (static_cast<std::uint64_t>(s.size()) << 56)) * kMul;
    return h ^ (h >> 29);
}

bool is_joined(const std::string& key, std::string_view device, std::string_view sensor) noexcept {
    return key.size() == device.size() + 1 + sensor.size() && key[device.size()] == '/' &&
           std::string_view(key).substr(0, device.size()) == device &&
           std::string_view(key).substr(device.size() + 1) == sensor;
}
} // namespace

void Detector::index(std::uint64_t hash, const std::string& key, Series& series) {
    if (2 * (m_indexed + 1) > m_index.size()) {
        std::vector<Slot> old(std::max<std::size_t>(64, 2 * m_index.size()));
        old.swap(m_index);
        m_indexed = 0;
        for (const Slot& slot : old)
            if (slot.series != nullptr)
                index(slot.hash, *slot.key, *slot.series);
    }
    const std::size_t mask = m_index.size() - 1;
    std::size_t i = hash & mask;
    while (m_index[i].series != nullptr)
        i = (i + 1) & mask;
    m_index[i] = Slot{hash, &key, &series};
    ++m_indexed;
}

Detector::Series& Detector::find_series(std::string_view device, std::string_view sensor) {
    const std::uint64_t hash = mix(mix(0, device), sensor);
    if (!m_index.empty()) {
        const std::size_t mask = m_index.size() - 1;
        for (std::size_t i = hash & mask; m_index[i].series != nullptr; i = (i + 1) & mask) {
            const Slot& slot = m_index[i];
            if (slot.hash == hash && is_joined(*slot.key, device, sensor))
                return *slot.series;
        }
    }
    m_key.assign(device).append(1, '/').append(sensor);
    auto it = m_series.find(std::string_view(m_key));
    if (it == m_series.end())
        it = add_series(device, sensor);
    index(hash, it->first, *it->second);
    return *it->second;
}

Detector::SeriesMap::iterator Detector::add_series(std::string_view device,
                                                   std::string_view sensor) {
    auto s = std::make_unique<Series>();
    s->state = SeriesState(record::sensor_kind(sensor));
    s->levels.heat_c = m_options.safety.heat_c;
    s->levels.z = m_options.stream.z;
    s->levels.spike = m_options.stream.spike;
    s->levels.stuck_min = m_options.stream.stuck_min;
    if (m_model != nullptr) {
        s->model = m_model->find(device, sensor);
        if (s->model != nullptr && s->model->forest.empty())
            s->model = nullptr;
        if (s->model != nullptr) {
            // Training may only make the statistical checks stricter than configured, and the
            // heat level follows EN 54-5's class for the location, never below the configured one.
            s->levels.z = std::max(s->levels.z, s->model->levels.z);
            s->levels.spike = std::max(s->levels.spike, s->model->levels.spike);
            s->levels.stuck_min = std::max(s->levels.stuck_min, s->model->levels.stuck_min);
            s->levels.heat_c = std::max(s->levels.heat_c, s->model->levels.heat_c);
        }
    }
    return m_series.emplace(m_key, std::move(s)).first;
}

double Detector::online_layer(Series& s, core::Millis ts, core::Millis local, double value,
                              const Observation& obs, std::uint16_t& cond) noexcept {
    OnlineInput in;
    in.ts = ts;
    in.local = local;
    in.value = value;
    in.median = s.state.median();
    in.scale = s.state.scale();
    in.z = obs.z;
    in.spike = obs.spike;
    in.gap = obs.gap;
    in.run = obs.run;
    in.z_valid = in.spike_valid = obs.features_valid;
    in.gap_valid = obs.gap > 0;
    in.stuck = (obs.conditions & kStuck) != 0;
    const record::SensorKind kind = s.state.kind();
    in.binary = kind == record::SensorKind::flame || kind == record::SensorKind::motion;
    // A model adds checks of its own, which share the series' budget. Its layers judge the
    // series' first day meanwhile (the first morning of a fresh online layer is news to it, not
    // to the model), but no longer than the model saw of it: a model of ten minutes knows no
    // more of the eleventh than the online layer does. Until the online layer has learnt from as
    // many readings as training did, the model's knowledge of the series rules what is common:
    // its z and spike levels floor the online statistics (z's also the level and daily ones, in
    // spreads as z) and a value that training's tails do not call rare is not. Then the online
    // layer, which has seen more of the series, judges alone.
    OnlineLevels levels = m_options.online;
    if (s.model != nullptr) {
        levels.other_stats = static_cast<int>(kModelChecks);
        if (s.online.readings() < s.model->rows) {
            levels.z_floor = std::max(levels.z_floor, s.levels.z);
            levels.spike_floor = std::max(levels.spike_floor, s.levels.spike);
            in.z_prior = &s.model->tails[static_cast<std::size_t>(ModelStat::z)];
            in.spike_prior = &s.model->tails[static_cast<std::size_t>(ModelStat::spike)];
        }
        const std::int64_t seen = s.model->last_ts - s.model->first_ts;
        levels.learn_first_ms =
            std::max(levels.learn_first_ms, std::clamp<std::int64_t>(seen, 0, 86'400'000));
    }
    const OnlineVerdict ov = s.online.observe(in, levels, s.event || s.profile_event);
    static constexpr std::array<std::uint16_t, kOnlineStats> kBits{
        kZscore, kSpike, kLevel, kDaily, kVolatility, kGap, kStuck};
    for (std::size_t i = 0; i < kOnlineStats; ++i)
        if ((ov.holds & (1U << i)) != 0)
            cond |= kBits[i];
    return ov.score;
}

namespace {
// With a model, the change-of-variance check learns the series' swings for as long as the model
// saw of it, at most a day, before it judges (the online layer's learn_first_ms): what training
// saw is not news to the detector.
core::Millis variance_quiet_ms(const Detector::Series& s) noexcept {
    if (s.model == nullptr)
        return 0;
    return std::clamp<std::int64_t>(s.model->last_ts - s.model->first_ts, 0, 86'400'000);
}
} // namespace

Verdict Detector::score(core::Millis ts, std::string_view device, std::string_view sensor,
                        double value) {
    Series& s = find_series(device, sensor);
    const core::Millis local = m_options.zone.local(ts);
    Observation obs;
    s.state.observe(ts, local, value, m_options.safety, m_options.stream, s.levels, obs,
                    s.model != nullptr);
    Verdict v;
    const std::uint16_t safety = obs.conditions & kSafety;
    if (obs.duplicate) {
        v = s.last;
        v.anomaly = safety != 0;
        return v;
    }
    std::uint16_t cond = obs.conditions;
    double score = 0;
    if (obs.in_order) { // calibrated in the online layer instead
        // Except on the sensors of fire and gas: there the fixed z and spike levels stay as an
        // early warning before the threshold (a gas leak ramping up), false alarms or not.
        const record::SensorKind kind = s.state.kind();
        const bool early =
            kind == record::SensorKind::gas || kind == record::SensorKind::temperature;
        const std::uint16_t calibrated =
            early ? (kGap | kStuck) : (kZscore | kSpike | kGap | kStuck);
        cond &= static_cast<std::uint16_t>(~calibrated);
        score = online_layer(s, ts, local, value, obs, cond);
        // The day's summary (day_summary.hpp): a cycle that stops, a peak that drops. Reported
        // as the daily check, the pattern of the day broken.
        const bool binary = kind == record::SensorKind::flame || kind == record::SensorKind::motion;
        const bool outlier = (cond & (kZscore | kSpike)) != 0;
        if (!binary && s.day.observe(local, value, safety != 0, outlier) != 0) {
            cond |= kDaily;
            score = std::max(score, kDaySummaryScore);
        }
        // The change of variance (variance.hpp): the noise grown several times over, beyond any
        // swing of it in the last week. Reported as volatility, a stretch of unusual readings.
        // Not on light sensors: their spread is their lamps', switched at will (a lamp first lit
        // on the second evening would be news).
        if (!binary && kind != record::SensorKind::light &&
            s.variance.observe(ts, value, s.variance.due() ? s.state.window_scale() : -1.0,
                               variance_quiet_ms(s))) {
            cond |= kVolatility;
            score = std::max(score, kDaySummaryScore);
        }
        if (early)
            score = std::max(
                {score, ratio_score(obs.z, s.levels.z), ratio_score(obs.spike, s.levels.spike)});
    } else {
        score = ratio_score(obs.z, s.levels.z);
    }
    // The model's statistics share the series' budget with the online layer's (its q).
    const double q = s.online.q();
    const double need = q > 0 ? std::log(static_cast<double>(kOnlineStats + kModelChecks) / q) : 0;
    const auto tail = [&s](ModelStat m) -> const TailFit& {
        return s.model->tails[static_cast<std::size_t>(m)];
    };
    double activity_count = -1; // the decayed event count, where the learnt activity judged
    if (s.model != nullptr && obs.in_order && !s.model->profile.empty()) {
        const double ps = s.profile.observe(s.model->profile, ts, local, value);
        // Hysteresis: an event of this slow statistic lasts until it is back under half its
        // level, so one long deviation is one onset however it hovers around the level.
        const bool onset = calibrated(tail(ModelStat::profile), ps, s.model->profile.limit,
                                      need + s.online.profile_raise());
        if (onset || (s.profile_event && ps > 0.5 * s.model->profile.limit))
            cond |= kProfile;
        score = std::max(score, ratio_score(ps, s.model->profile.limit));
    }
    if (s.model != nullptr && obs.in_order && !s.model->activity.empty()) {
        const double r = activity_ratio(s.model->activity, s.activity.observe(ts, value), local);
        // Hysteresis as for the profile: back under two thirds of the level ends the event.
        const bool onset = calibrated(tail(ModelStat::activity), r, 1.0, need);
        if (onset || (s.activity_event && r > 2.0 / 3.0))
            cond |= kActivity;
        score = std::max(score, ratio_score(r, 1.0));
    } else if (obs.in_order && s.state.kind() == record::SensorKind::motion) {
        // Learnt online (activity.hpp LearntActivity): over the level, or an event of it going
        // on above two thirds of it, as the model's; what an event's readings did is not learnt.
        activity_count = s.activity.observe(ts, value);
        const double r = s.learnt_activity.ratio(activity_count, local);
        if (r > 1.0 || (s.activity_event && r > 2.0 / 3.0))
            cond |= kActivity;
        score = std::max(score, ratio_score(r, 1.0));
    }
    if (s.model != nullptr && obs.in_order && !s.model->kmeans.empty()) {
        KmeansPoint x;
        if (s.kmeans.observe(value, x)) {
            const double a = s.model->kmeans.agreement(x);
            if (a > 1.0)
                cond |= kKmeans;
            score = std::max(score, ratio_score(a, 1.0));
        }
    }
    if (s.model != nullptr && obs.features_valid) {
        const double fs = s.model->forest.score(obs.features.data());
        if (calibrated(tail(ModelStat::forest), fs, s.model->threshold, need))
            cond |= kIforest;
        score = std::max(score, forest_score(fs, s.model->threshold));
    }
    const JointStep joint = m_joint.observe(ts, device, sensor, value);
    if (joint.holds)
        cond |= kJoint;
    score = std::max(score, joint.score);
    if (safety != 0)
        score = 1.0;
    v.score = score;
    v.reasons = cond;

    const auto clear_after = static_cast<std::uint16_t>(m_options.stream.clear_after);
    const auto track = [&](bool holds, bool& event, std::uint16_t& quiet) {
        if (holds) {
            const bool starts = !event;
            event = true;
            quiet = 0;
            return starts;
        }
        if (event && obs.in_order && ++quiet >= clear_after)
            event = false;
        return false;
    };
    const std::uint16_t other =
        cond & static_cast<std::uint16_t>(~(kSafety | kProfile | kActivity | kJoint));
    bool onset = track(other != 0, s.event, s.quiet);
    if (track((cond & kProfile) != 0, s.profile_event, s.profile_quiet)) {
        onset = true;
        s.online.profile_onset();
    }
    onset = track((cond & kActivity) != 0, s.activity_event, s.activity_quiet) || onset;
    if (activity_count >= 0 && !s.activity_event)
        s.learnt_activity.learn(activity_count);
    // A scored row: the device's own event, counted in rows; its onset is not flagged again
    // where a reading of the row already was.
    if (joint.event != nullptr && track(joint.holds, joint.event->active, joint.event->quiet))
        onset = onset || !joint.row_flagged;
    v.anomaly = safety != 0 || onset;
    m_joint.note_flag(v.anomaly);
    s.last = v;
    return v;
}

Verdict Detector::annotate(record::Reading& r) {
    const Verdict v = score(r.ts, r.device, r.sensor, r.value);
    r.score = v.score;
    r.anomaly = v.anomaly;
    r.reasons.clear();
    reason_names(v.reasons, r.reasons);
    return v;
}

std::string_view layer_reason_name(std::size_t bit) noexcept {
    if (bit < kReasonCount)
        return reason_name(bit);
    if (bit == 10)
        return "activity";
    if (bit == 11)
        return "kmeans";
    if (bit == 12)
        return "level";
    if (bit == 13)
        return "daily";
    if (bit == 14)
        return "volatility";
    if (bit == 15)
        return "joint";
    return {};
}

void reason_names(std::uint16_t bits, std::vector<std::string>& out) {
    for (std::size_t i = 0; bits >> i != 0 && i < kAllReasonCount; ++i)
        if ((bits & (1U << i)) != 0)
            out.emplace_back(layer_reason_name(i));
}

} // namespace iots::detect
