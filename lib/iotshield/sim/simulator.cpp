#include "iotshield/sim/simulator.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/record/sensor.hpp"
#include "iotshield/sim/physics.hpp"
#include "iotshield/sim/rng.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace iots::sim {

using namespace model;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kLatitude = 48.0 * kPi / 180.0; // central Europe: the sun's path and the seasons
constexpr double kYear = 365.2425;

// Stream tags: each source of randomness has its own stream, so that adding an incident or a
// device never shifts the numbers another part of the model draws.
constexpr std::uint64_t kTagHousehold = 0x486f757365ULL;
constexpr std::uint64_t kTagDevice = 0x446576ULL;
constexpr std::uint64_t kTagDay = 0x446179ULL;
constexpr std::uint64_t kTagExplicit = 0x496e63ULL;
constexpr std::uint64_t kTagRandom = 0x526e64ULL;
constexpr std::uint64_t kTagSchedule = 0x536368ULL;

constexpr std::array<RoomParams, 8> kRooms{{
    {10, 21.0, 18.0, true, 0.012, 250, 0.35, 25, 0.35, 2.0},  // living
    {8, 20.5, 17.5, false, 0.010, 400, 0.12, 10, 0.60, 1.5},  // kitchen
    {10, 19.5, 17.5, true, 0.008, 150, 0.05, 15, 0.30, 2.0},  // bedroom
    {7, 19.5, 17.0, false, 0.003, 120, 0.08, 1.5, 0.80, 2.0}, // hallway
    {9, 21.0, 17.0, true, 0.015, 450, 0.10, 30, 0.30, 2.0},   // office
    {4, 5.0, 5.0, false, 0.002, 300, 0.02, 5, 0.60, 1.0},     // garage: frost protection only
    {7, 22.0, 18.0, false, 0.004, 300, 0.08, 6, 0.50, 1.0},   // bathroom
    {9, 20.5, 17.5, false, 0.008, 200, 0.15, 15, 0.40, 2.0},  // generic
}};

Room room_type(std::string_view room) {
    const auto has = [&](std::string_view s) { return room.find(s) != std::string_view::npos; };
    if (has("kitchen"))
        return Room::kitchen;
    if (has("living") || has("lounge"))
        return Room::living;
    if (has("bed") || has("nursery"))
        return Room::bedroom;
    if (has("hall") || has("corridor") || has("entr"))
        return Room::hallway;
    if (has("office") || has("study"))
        return Room::office;
    if (has("garage"))
        return Room::garage;
    if (has("bath") || has("shower") || has("toilet"))
        return Room::bathroom;
    return Room::generic;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        --q;
    return q;
}

DayPlan make_plan(std::uint64_t seed, std::int64_t day) {
    Rng r(mix(seed, kTagDay, static_cast<std::uint64_t>(day)));
    double n[5];
    for (double& x : n)
        x = r.normal();
    const double u1 = r.uniform(), u2 = r.uniform(), u3 = r.uniform();
    DayPlan p;
    const std::int64_t wd = ((day + 3) % 7 + 7) % 7; // 1970-01-01 was a Thursday; 0 = Monday
    p.workday = wd < 5;
    if (p.workday) {
        p.wfh = u1 < 0.2;
        p.wake = std::clamp(6.5 + 0.25 * n[0], 5.0, 8.0);
        if (!p.wfh) {
            p.leave = std::max(p.wake + 0.75, 8.0 + 0.15 * n[1]);
            p.back = std::clamp(17.5 + 0.5 * n[2], 15.5, 20.0);
        }
        p.sleep = std::clamp(22.75 + 0.35 * n[3], 21.5, 23.9);
    } else {
        p.wake = std::clamp(8.25 + 0.5 * n[0], 6.5, 10.5);
        p.sleep = std::clamp(23.3 + 0.3 * n[3], 21.5, 23.9);
        if (u2 < 0.6) {
            p.out_start = (u3 < 0.5 ? 10.5 : 14.0) + 0.4 * n[1];
            p.out_end = p.out_start + std::clamp(2.5 + 0.5 * n[2], 1.0, 4.0);
        }
    }
    p.shower = p.wake + 0.05;
    p.breakfast = p.wake + 0.3;
    if (!p.workday || p.wfh)
        p.lunch = 12.5 + 0.2 * n[4];
    p.dinner = p.back > 0 ? std::max(p.back + 0.5, 18.25) : 18.5 + 0.3 * n[4];
    return p;
}

Presence presence_at(const DayPlan& p, double hour) {
    if (hour < p.wake || hour >= p.sleep)
        return Presence::asleep;
    if (p.leave >= 0 && hour >= p.leave && hour < p.back)
        return Presence::away;
    if (p.out_start >= 0 && hour >= p.out_start && hour < p.out_end)
        return Presence::away;
    return Presence::home;
}

bool within(double hour, double from, double length) {
    return from >= 0 && hour >= from && hour < from + length;
}

// An incident in progress, with its own random stream and the parameters drawn for it.
struct Active {
    std::size_t index = 0; // into Impl::scheduled
    Incident inc;
    Rng rng;
    double a = 0, b = 0, c = 0, d = 0, e = 0;
    int mode = 0;
    bool lamp = false;
    bool stuck_set = false;
    double stuck_value = 0;
    std::vector<std::int64_t> spikes; // step numbers within the window
    std::int64_t steps_in = 0;
    bool done = false;
};

core::Millis default_duration(IncidentKind k) {
    switch (k) {
    case IncidentKind::fire:
        return 10 * 60000;
    case IncidentKind::gas_leak:
        return 30 * 60000;
    case IncidentKind::intrusion:
        return 10 * 60000;
    case IncidentKind::hvac_failure:
        return 6 * 3600000;
    case IncidentKind::sensor_stuck:
        return 30 * 60000;
    case IncidentKind::sensor_spike:
        return 60 * 60000;
    case IncidentKind::sensor_dropout:
        return 20 * 60000;
    }
    return 10 * 60000;
}

// Durations of random incidents (minutes).
std::pair<double, double> random_duration_min(IncidentKind k) {
    switch (k) {
    case IncidentKind::fire:
        return {5, 15};
    case IncidentKind::gas_leak:
        return {10, 40};
    case IncidentKind::intrusion:
        return {3, 15};
    case IncidentKind::hvac_failure:
        return {180, 480};
    case IncidentKind::sensor_stuck:
        return {15, 60};
    case IncidentKind::sensor_spike:
        return {30, 90};
    case IncidentKind::sensor_dropout:
        return {5, 30};
    }
    return {5, 15};
}

// Sensors a fault picks from when none is named: the analogue ones (a stuck or spiking binary
// sensor is mostly indistinguishable from its normal output). Dropouts may hit any sensor.
int pick_sensor(IncidentKind k, Rng& r) {
    static constexpr int kAnalogue[] = {temperature, humidity, gas, light};
    if (k == IncidentKind::sensor_dropout)
        return static_cast<int>(r.below(kSensorCount));
    return kAnalogue[r.below(4)];
}

} // namespace

struct Simulator::Impl {
    Config cfg;
    Rng household_rng;
    Household hh;
    std::vector<Device> devices;
    std::int64_t tick = 0;
    std::size_t pos = 0;
    core::Millis tick_ts = 0;
    core::Millis last_ts = 0;
    std::vector<Incident> scheduled;
    std::vector<std::size_t> pending; // indices into scheduled, not yet active, sorted by start
    std::vector<Active> active;
    Rng schedule_rng;
    std::uint64_t random_count = 0;
    core::Millis next_random = -1;
    std::vector<const record::Reading*> out;
    std::int32_t standard_offset_s = 0; // the zone's offset without daylight saving

    explicit Impl(const Config& c);
    void begin_tick();
    void update_household(core::Millis t, double dt_h, bool draw);
    void schedule_random();
    void activate(std::size_t index);
    void step_device(Device& d, core::Millis base_ts);
    [[nodiscard]] DayPlan plan_for(std::int64_t day) const { return make_plan(cfg.seed, day); }
    [[nodiscard]] double local_hours(core::Millis t, std::int64_t& day) const {
        const auto local = cfg.zone.local(t) + static_cast<core::Millis>(
                                                   std::llround(cfg.utc_offset_hours * kMsPerHour));
        day = floor_div(local, static_cast<std::int64_t>(kMsPerDay));
        return static_cast<double>(local - day * static_cast<std::int64_t>(kMsPerDay)) / kMsPerHour;
    }
    [[nodiscard]] Presence presence(core::Millis t) const {
        std::int64_t day = 0;
        const double hour = local_hours(t, day);
        return presence_at(plan_for(day), hour);
    }
    [[nodiscard]] bool device_free(std::size_t device, core::Millis from, core::Millis to) const {
        for (const auto& i : scheduled)
            if (i.device == device && from < i.end + 2 * 3600000 && to + 3600000 > i.start)
                return false;
        return true;
    }
};

Simulator::Impl::Impl(const Config& c)
    : cfg(c), household_rng(mix(c.seed, kTagHousehold)), schedule_rng(mix(c.seed, kTagSchedule)) {
    validate(cfg);
    // Daylight saving adds to the standard offset in either hemisphere: the smaller of a winter
    // and a summer offset is the standard one.
    const auto half_year = static_cast<core::Millis>(182 * kMsPerDay);
    standard_offset_s =
        std::min(cfg.zone.offset_s(cfg.start), cfg.zone.offset_s(cfg.start + half_year));
    const std::size_t n = cfg.devices.size();
    hh.weather = 3.0 * household_rng.normal();
    hh.cloud_z = household_rng.normal();
    hh.dew = 1.5 * household_rng.normal();
    update_household(cfg.start, 0, false);

    devices.resize(n);
    const core::Millis spacing = cfg.interval / static_cast<core::Millis>(n);
    for (std::size_t i = 0; i < n; ++i) {
        Device& d = devices[i];
        d.spec = cfg.devices[i];
        d.room = room_type(d.spec.room);
        d.p = &kRooms[static_cast<std::size_t>(d.room)];
        d.rng = Rng(mix(cfg.seed, kTagDevice, i));
        d.phase = spacing * static_cast<core::Millis>(i);
        d.jitter_max = std::min<core::Millis>(50, spacing / 4);
        d.t_offset = 0.3 * d.rng.normal();
        d.h_offset = 1.5 * d.rng.normal();
        d.gas_base = d.rng.uniform(180, 320);
        d.heat_power = 3.5 * d.rng.uniform(0.8, 1.2) * (d.room == Room::garage ? 0.5 : 1.0);
        d.tau = d.p->tau_h * d.rng.uniform(0.85, 1.15);
        d.sp_offset = 0.4 * d.rng.normal();
        d.window_f = d.rng.uniform(0.7, 1.3);
        d.lamp_f = d.rng.uniform(0.8, 1.2);
        d.voc_amp = d.rng.uniform(60, 150);
        d.gas_drift = 0.06 * d.rng.normal();
        const double sp = hh.presence == Presence::asleep ? d.p->sp_night : d.p->sp_day;
        d.temp = d.twin_temp = std::max(sp, hh.t_out) + d.sp_offset + 0.3 * d.rng.normal();
        d.vapour = std::min(hh.e_out + 2.0, 0.9 * saturation(d.temp));
        for (int s = 0; s < kSensorCount; ++s) {
            auto& r = d.readings[static_cast<std::size_t>(s)];
            r.device = d.spec.name;
            r.sensor = std::string(kSensors[s]);
            r.unit = std::string(record::sensor_info(kSensors[s])->unit);
            r.location = d.spec.room;
        }
    }

    for (std::size_t k = 0; k < cfg.incidents.size(); ++k) {
        const auto& spec = cfg.incidents[k];
        Rng r(mix(cfg.seed, kTagExplicit, k));
        Incident inc;
        inc.kind = spec.kind;
        inc.device = r.below(n);
        for (std::size_t i = 0; i < n; ++i)
            if (!spec.device.empty() && devices[i].spec.name == spec.device)
                inc.device = i;
        if (is_sensor_fault(spec.kind)) {
            inc.sensor = pick_sensor(spec.kind, r);
            for (int s = 0; s < kSensorCount; ++s)
                if (kSensors[s] == spec.sensor)
                    inc.sensor = s;
        }
        inc.start = cfg.start + spec.offset;
        inc.end = inc.start + spec.duration.value_or(default_duration(spec.kind));
        scheduled.push_back(inc);
    }
    for (std::size_t i = 0; i < scheduled.size(); ++i)
        pending.push_back(i);
    std::stable_sort(pending.begin(), pending.end(), [&](std::size_t a, std::size_t b) {
        return scheduled[a].start < scheduled[b].start;
    });
    if (cfg.incidents_per_day > 0)
        next_random = cfg.start + static_cast<core::Millis>(
                                      schedule_rng.exponential(kMsPerDay / cfg.incidents_per_day));
}

void Simulator::Impl::update_household(core::Millis t, double dt_h, bool draw) {
    if (draw) { // three draws per tick, always
        const double n1 = household_rng.normal(), n2 = household_rng.normal(),
                     n3 = household_rng.normal();
        hh.weather = ou_step(hh.weather, std::exp(-dt_h / 48.0), 3.0, n1);
        hh.cloud_z = ou_step(hh.cloud_z, std::exp(-dt_h / 8.0), 1.2, n2);
        hh.dew = ou_step(hh.dew, std::exp(-dt_h / 24.0), 1.5, n3);
    }
    std::int64_t day = 0;
    const double hour = local_hours(t, day);
    if (day != hh.day) {
        hh.day = day;
        hh.plan = plan_for(day);
    }
    hh.hour = hour;
    const DayPlan& p = hh.plan;
    hh.presence = presence_at(p, hour);
    const bool home = hh.presence == Presence::home;
    hh.cooking = home && (within(hour, p.breakfast, 0.25) || within(hour, p.lunch, 0.75) ||
                          within(hour, p.dinner, 0.75));
    hh.shower = home && within(hour, p.shower, 0.25);
    hh.evening = home && hour >= 18.5;
    hh.pre_sleep = home && hour >= p.sleep - 0.5;
    hh.garage_time = home && ((p.leave >= 0 && std::fabs(hour - p.leave) < 0.15) ||
                              (p.back >= 0 && std::fabs(hour - p.back) < 0.15));
    hh.wfh_hours = home && p.wfh && hour >= 9 && hour < 17;

    // Season and sun from the fraction of the year (the orbit's phase; good to a day or so). The
    // sun keeps standard time: under daylight saving it peaks an hour later on the clock.
    const double days = static_cast<double>(day) + hour / 24.0;
    const double sun_hour = hour - (cfg.zone.offset_s(t) - standard_offset_s) / 3600.0;
    const double gamma = 2 * kPi * std::fmod(days, kYear) / kYear;
    const double coldest = 2 * kPi * 18 / kYear; // about 18 January
    const double season = 10.5 - 9.5 * std::cos(gamma - coldest);
    const double amplitude = 4.5 - 1.5 * std::cos(gamma - coldest);
    hh.t_out = season + amplitude * std::cos(2 * kPi * (sun_hour - 15) / 24) + hh.weather;
    const double cloud = 1.0 / (1.0 + std::exp(-(hh.cloud_z + 0.3)));
    const double decl = -23.44 * kPi / 180 * std::cos(gamma + 2 * kPi * 10 / kYear);
    const double hour_angle = (sun_hour - 12) * 15 * kPi / 180;
    const double sin_el = std::sin(kLatitude) * std::sin(decl) +
                          std::cos(kLatitude) * std::cos(decl) * std::cos(hour_angle);
    const double el_deg = std::asin(std::clamp(sin_el, -1.0, 1.0)) * 180 / kPi;
    hh.outdoor_lux = 110000 * std::max(0.0, sin_el) * (1 - 0.75 * cloud) +
                     400 * std::exp(std::min(el_deg, 0.0) / 1.3);
    const double t_dew = std::min(hh.t_out - 0.5, season - 2.5 + 0.6 * hh.weather + hh.dew);
    hh.e_out = saturation(t_dew);
}

void Simulator::Impl::activate(std::size_t index) {
    Active a;
    a.index = index;
    a.inc = scheduled[index];
    a.rng = Rng(mix(cfg.seed, a.inc.random ? kTagRandom : kTagExplicit, 1000003 + index));
    Device& d = devices[a.inc.device];
    switch (a.inc.kind) {
    case IncidentKind::fire:
        a.a = a.rng.uniform(0.6, 1.4);   // heat growth (C/min^2): a t-squared fire
        a.b = a.rng.uniform(70, 95);     // heat at the sensor levels off here (C above room)
        a.c = a.rng.uniform(1500, 5000); // smoke on the MQ-2 (ppm)
        a.d = a.rng.uniform(2, 5);       // smoke time constant (min)
        a.e = a.rng.uniform(0, 10000);   // flame in the IR sensor's view after (ms)
        a.mode = static_cast<int>(a.rng.uniform(20, 200)); // glow (lux)
        break;
    case IncidentKind::gas_leak:
        a.a = a.rng.uniform(2000, 8000); // steady-state concentration at the sensor (ppm)
        a.b = a.rng.uniform(4, 12);      // build-up time constant (min)
        break;
    case IncidentKind::intrusion:
        a.lamp = a.rng.chance(0.3);
        break;
    case IncidentKind::hvac_failure:
        // Heater dead in the cold (the room drifts towards outdoors), or a valve stuck open.
        a.mode = (hh.t_out < 15 && d.room != Room::garage && a.rng.chance(0.65)) ? 1 : 2;
        if (hh.t_out >= 15 && d.p->cooling)
            a.mode = 1;
        break;
    case IncidentKind::sensor_spike: {
        const auto n = std::max<std::int64_t>(1, (a.inc.end - a.inc.start) / cfg.interval);
        const auto k = std::min<std::int64_t>(n, 3 + static_cast<std::int64_t>(a.rng.below(4)));
        for (int tries = 0; static_cast<std::int64_t>(a.spikes.size()) < k && tries < 1000;
             ++tries) {
            const auto s = static_cast<std::int64_t>(a.rng.below(static_cast<std::uint64_t>(n)));
            const bool near = std::any_of(a.spikes.begin(), a.spikes.end(), [&](std::int64_t x) {
                return std::abs(x - s) < (n >= 3 * k ? 2 : 1);
            });
            if (!near)
                a.spikes.push_back(s);
        }
        std::sort(a.spikes.begin(), a.spikes.end());
        break;
    }
    default:
        break;
    }
    active.push_back(std::move(a));
}

void Simulator::Impl::schedule_random() {
    const core::Millis horizon = tick_ts + cfg.interval;
    while (next_random >= 0 && next_random < horizon) {
        const core::Millis candidate = next_random;
        next_random =
            candidate + 1 +
            static_cast<core::Millis>(schedule_rng.exponential(kMsPerDay / cfg.incidents_per_day));
        Incident inc;
        inc.random = true;
        inc.kind = static_cast<IncidentKind>(schedule_rng.below(kIncidentKinds));
        const std::size_t first = schedule_rng.below(devices.size());
        const auto [lo, hi] = random_duration_min(inc.kind);
        const auto duration = static_cast<core::Millis>(schedule_rng.uniform(lo, hi) * 60000);
        inc.sensor = is_sensor_fault(inc.kind) ? pick_sensor(inc.kind, schedule_rng) : -1;
        inc.start = std::max(candidate, tick_ts);
        if (inc.kind == IncidentKind::intrusion) { // only while nobody is home or all asleep
            for (int i = 0; i < 3 * 288; ++i, inc.start += 300000)
                if (presence(inc.start) != Presence::home &&
                    presence(inc.start + duration) != Presence::home)
                    break;
        }
        inc.end = inc.start + duration;
        bool placed = false;
        for (std::size_t k = 0; k < devices.size() && !placed; ++k) {
            inc.device = (first + k) % devices.size();
            placed = device_free(inc.device, inc.start, inc.end);
        }
        if (!placed)
            continue; // every node busy: this one is dropped (the rate is an upper bound)
        ++random_count;
        scheduled.push_back(inc);
        // Keep pending sorted by start (an intrusion may have been moved later).
        const auto at =
            std::upper_bound(pending.begin(), pending.end(), inc.start,
                             [&](core::Millis s, std::size_t i) { return s < scheduled[i].start; });
        pending.insert(at, scheduled.size() - 1);
    }
}

void Simulator::Impl::begin_tick() {
    tick_ts = cfg.start + tick * cfg.interval;
    if (tick > 0)
        update_household(tick_ts, static_cast<double>(cfg.interval) / kMsPerHour, true);
    schedule_random();
    const core::Millis horizon = tick_ts + cfg.interval;
    std::size_t k = 0;
    while (k < pending.size() && scheduled[pending[k]].start < horizon)
        activate(pending[k++]);
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(k));
}

void Simulator::Impl::step_device(Device& d, core::Millis base_ts) {
    const double dt_h = static_cast<double>(cfg.interval) / kMsPerHour;
    const double dt_min = dt_h * 60;
    // The node's draws, always the same number in the same order.
    const double u_occ = d.rng.uniform(), u_motion = d.rng.uniform();
    const double n_turb = d.rng.normal(), n_temp = d.rng.normal(), n_hum = d.rng.normal();
    const double n_drift = d.rng.normal(), n_gas = d.rng.normal(), n_light = d.rng.normal();
    const double u_jitter = d.rng.uniform();
    const core::Millis ts =
        base_ts + d.phase + static_cast<core::Millis>(u_jitter * static_cast<double>(d.jitter_max));
    last_ts = ts;

    const bool sleeping = step_occupancy(d, hh, dt_min, u_occ);

    // Incidents on this node: which are in their window, and what they do now.
    int hvac_fault = 0;
    bool burning = false, leaking = false, intruder = false, intruder_lamp = false;
    bool flame_on = false;
    double glow = 0, flashlight = 0;
    for (auto& a : active) {
        if (a.inc.device != static_cast<std::size_t>(&d - devices.data()) || a.done)
            continue;
        const bool in = ts >= a.inc.start && ts < a.inc.end;
        if (!in)
            continue;
        const double since_min = static_cast<double>(ts - a.inc.start) / 60000.0;
        switch (a.inc.kind) {
        case IncidentKind::fire:
            burning = true;
            d.fire_heat = std::max(d.fire_heat, std::min(a.a * since_min * since_min, a.b));
            d.smoke = relax(d.smoke, a.c, dt_min, a.d);
            if (static_cast<double>(ts - a.inc.start) >= a.e)
                flame_on = flame_on || a.rng.chance(0.9); // flicker
            glow += a.mode * (0.6 + 0.4 * a.rng.uniform()) * std::min(1.0, since_min / 2);
            break;
        case IncidentKind::gas_leak:
            if (!d.valve_closed) {
                leaking = true;
                d.leak = relax(d.leak, a.a, dt_min, a.b);
            }
            break;
        case IncidentKind::intrusion:
            intruder = true;
            intruder_lamp = intruder_lamp || a.lamp;
            if (a.rng.chance(0.35))
                flashlight += a.rng.uniform(20, 150);
            break;
        case IncidentKind::hvac_failure:
            hvac_fault = a.mode;
            break;
        default:
            break;
        }
    }
    if (!burning) { // the fire is out: heat and smoke clear, faster with the fan
        d.fire_heat *= std::exp(-dt_min / (d.fan ? 5.0 : 10.0));
        d.smoke *= std::exp(-dt_min / (d.fan ? 5.0 : 15.0));
    }
    if (!leaking)
        d.leak *= std::exp(-dt_min / (d.fan ? 4.0 : 12.0));

    const Light lit = room_light(d, hh, sleeping, intruder && intruder_lamp, glow, flashlight);
    const double daylight = lit.daylight;
    const double lux = lit.lux;

    const double t_air =
        step_temperature(d, hh, daylight, sleeping, hvac_fault, dt_h, dt_min, n_turb);

    const double rh = step_humidity(d, hh, sleeping, t_air, dt_h);

    const GasLevel gas_level = step_gas(d, hh, rh, t_air, ts - cfg.start, dt_h, dt_min, n_drift);
    const double base = gas_level.base;
    const double gas_true = gas_level.total;

    const double p_motion = motion_chance(d, sleeping, intruder, burning, cfg.interval);

    std::array<double, kSensorCount> value{};
    value[temperature] =
        round_to(std::clamp(t_air + d.turb + d.t_offset + 0.05 * n_temp, -40.0, 125.0), 100);
    value[humidity] = round_to(std::clamp(rh + d.h_offset + 0.4 * n_hum, 0.0, 100.0), 10);
    value[gas] = round_to(
        std::clamp(gas_true + n_gas * std::sqrt(16 + 0.015 * 0.015 * base * base), 0.0, 10000.0),
        10);
    value[flame] = flame_on ? 1 : 0;
    value[motion] = u_motion < p_motion ? 1 : 0;
    value[light] = round_to(std::clamp(lux + n_light * (0.1 + 0.02 * lux), 0.0, 100000.0), 10);

    // Sensor faults, and the label of each reading: the incident that touches it, by priority
    // (the order of IncidentKind), else normal.
    std::array<int, kSensorCount> label;
    label.fill(-1);
    std::array<bool, kSensorCount> dropped{};
    const auto touch = [&](int s, IncidentKind k) {
        const int ki = static_cast<int>(k);
        if (label[static_cast<std::size_t>(s)] < 0 || ki < label[static_cast<std::size_t>(s)])
            label[static_cast<std::size_t>(s)] = ki;
    };
    for (auto& a : active) {
        if (a.inc.device != static_cast<std::size_t>(&d - devices.data()) || a.done)
            continue;
        const bool in = ts >= a.inc.start && ts < a.inc.end;
        const bool after = ts >= a.inc.end;
        const auto s = static_cast<std::size_t>(std::max(a.inc.sensor, 0));
        switch (a.inc.kind) {
        case IncidentKind::fire:
            // Labelled until heat and smoke are back within about three sigma of sensor noise.
            if (in || d.fire_heat >= 0.5 || d.smoke >= 15) {
                for (int k = 0; k < kSensorCount; ++k)
                    touch(k, a.inc.kind);
            } else if (after) {
                a.done = true;
            }
            break;
        case IncidentKind::gas_leak:
            if ((in && !d.valve_closed) || d.leak >= 15)
                touch(gas, a.inc.kind);
            else if (after)
                a.done = true;
            break;
        case IncidentKind::intrusion:
            if (in) {
                touch(motion, a.inc.kind);
                touch(light, a.inc.kind);
            } else if (after) {
                a.done = true;
            }
            break;
        case IncidentKind::hvac_failure:
            if (in || std::fabs(d.temp - d.twin_temp) >= 0.3) {
                touch(temperature, a.inc.kind);
                touch(humidity, a.inc.kind);
            } else if (after) {
                a.done = true;
            }
            break;
        case IncidentKind::sensor_stuck:
            if (in) {
                if (!a.stuck_set) {
                    a.stuck_value = d.has_last[s] ? d.last[s] : value[s];
                    a.stuck_set = true;
                }
                value[s] = a.stuck_value;
                touch(a.inc.sensor, a.inc.kind);
            } else if (after) {
                a.done = true;
            }
            break;
        case IncidentKind::sensor_spike:
            if (in) {
                if (std::binary_search(a.spikes.begin(), a.spikes.end(), a.steps_in)) {
                    const double sign = a.rng.chance(0.5) ? 1 : -1;
                    double v = value[s];
                    switch (a.inc.sensor) {
                    case temperature:
                        v = std::clamp(v + sign * a.rng.uniform(8, 35), -40.0, 125.0);
                        break;
                    case humidity:
                        v = std::clamp(v + sign * a.rng.uniform(20, 45), 0.0, 100.0);
                        break;
                    case gas:
                        v = std::min(10000.0, v + base * a.rng.uniform(3, 12));
                        break;
                    case light:
                        v = std::min(100000.0, v + a.rng.uniform(800, 20000));
                        break;
                    default: // binary: the other value
                        v = 1 - v;
                    }
                    value[s] = round_to(v, 10);
                    touch(a.inc.sensor, a.inc.kind);
                }
                ++a.steps_in;
            } else if (after) {
                a.done = true;
            }
            break;
        case IncidentKind::sensor_dropout:
            if (in) {
                dropped[s] = true;
            } else if (after) { // the first reading after the gap carries the label
                touch(a.inc.sensor, a.inc.kind);
                a.done = true;
            }
            break;
        }
    }

    for (int k = 0; k < kSensorCount; ++k) {
        const auto s = static_cast<std::size_t>(k);
        if (dropped[s])
            continue;
        auto& r = d.readings[s];
        r.ts = ts;
        r.value = value[s];
        r.seq = d.seq++;
        if (cfg.labels)
            r.label = label[s] < 0 ? std::string_view("normal")
                                   : incident_name(static_cast<IncidentKind>(label[s]));
        d.last[s] = value[s];
        d.has_last[s] = true;
        out.push_back(&r);
    }
}

Simulator::Simulator(const Config& config) : m(std::make_unique<Impl>(config)) {}
Simulator::~Simulator() = default;

const std::vector<const record::Reading*>& Simulator::step() {
    Impl& s = *m;
    s.out.clear();
    if (s.pos == 0) {
        s.begin_tick();
        std::erase_if(s.active, [](const Active& a) { return a.done; });
    }
    s.step_device(s.devices[s.pos], s.tick_ts);
    if (++s.pos == s.devices.size()) {
        s.pos = 0;
        ++s.tick;
    }
    return s.out;
}

std::string Simulator::actuate(std::string_view device, std::string_view actuator,
                               std::string_view action) {
    auto it = std::find_if(m->devices.begin(), m->devices.end(),
                           [&](const Device& d) { return d.spec.name == device; });
    if (it == m->devices.end())
        return "unknown device '" + std::string(device) + "'";
    Device& d = *it;
    const bool on = action == "on" || action == "open";
    const bool off = action == "off" || action == "close" || action == "closed";
    if (actuator == "valve") {
        if (!on && !off)
            return "unknown action '" + std::string(action) + "' for valve (open, close)";
        d.valve_closed = off;
        if (off) { // the gas supply is shut: a leak stops feeding, what leaked clears
            for (auto& a : m->active)
                if (a.inc.kind == IncidentKind::gas_leak &&
                    a.inc.device == static_cast<std::size_t>(&d - m->devices.data()) &&
                    a.inc.end > m->last_ts) {
                    a.inc.end = std::max(a.inc.start, m->last_ts + 1);
                    m->scheduled[a.index].end = a.inc.end;
                }
        }
        return {};
    }
    bool* state = actuator == "fan"      ? &d.fan
                  : actuator == "buzzer" ? &d.buzzer
                  : actuator == "relay"  ? &d.relay
                                         : nullptr;
    if (state == nullptr)
        return "unknown actuator '" + std::string(actuator) + "' (fan, valve, buzzer, relay)";
    if (action != "on" && action != "off")
        return "unknown action '" + std::string(action) + "' for " + std::string(actuator) +
               " (on, off)";
    *state = action == "on";
    return {};
}

core::Millis Simulator::last_ts() const noexcept {
    return m->last_ts;
}

const Config& Simulator::config() const noexcept {
    return m->cfg;
}

const std::vector<Incident>& Simulator::incidents() const noexcept {
    return m->scheduled;
}

Presence Simulator::presence(core::Millis ts) const {
    return m->presence(ts);
}

std::string_view presence_name(Presence p) noexcept {
    switch (p) {
    case Presence::asleep:
        return "asleep";
    case Presence::home:
        return "home";
    case Presence::away:
        return "away";
    }
    return "home";
}

std::vector<std::pair<core::Millis, Presence>>
Simulator::presence_changes(core::Millis from, core::Millis to, core::Millis step) const {
    std::vector<std::pair<core::Millis, Presence>> out;
    for (core::Millis t = from; t < to; t += step) {
        const Presence p = m->presence(t);
        if (out.empty() || out.back().second != p)
            out.emplace_back(t, p);
    }
    return out;
}

} // namespace iots::sim
