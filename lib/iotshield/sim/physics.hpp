#pragma once
// The household model's physics, for sim/ only: the state of the household and of each node, and
// one step of each sensor's physical quantity (occupancy, light, temperature, humidity, gas,
// motion), called in this order by Simulator::Impl::step_device (simulator.cpp), which adds the
// incidents, the sensor noise and the labels. Pure functions of their arguments: the random
// numbers are drawn by the caller, always the same number in the same order.
#include "iotshield/core/time.hpp"
#include "iotshield/record/reading.hpp"
#include "iotshield/sim/config.hpp"
#include "iotshield/sim/rng.hpp"
#include "iotshield/sim/simulator.hpp"

#include <array>
#include <cmath>
#include <cstdint>

namespace iots::sim::model {

constexpr double kMsPerHour = 3600e3;
constexpr double kMsPerDay = 86400e3;

enum Sensor : int { temperature, humidity, gas, flame, motion, light };

enum class Room { living, kitchen, bedroom, hallway, office, garage, bathroom, generic };

struct RoomParams {
    double tau_h;     // thermal time constant of the room (h)
    double sp_day;    // heating setpoint when home and awake (C)
    double sp_night;  // when asleep
    bool cooling;     // has air conditioning (setpoint 25.5 C)
    double window;    // indoor lux per outdoor lux
    double lamp;      // lux of the lamps when on
    double p_base;    // chance someone is in the room while the household is home and awake
    double dwell_min; // mean stay
    double p_motion;  // PIR trigger chance per 5 s while someone is in the room
    double vent_h;    // air exchange time constant (h) for moisture
};

// Saturation vapour pressure over water (Magnus, hPa).
inline double saturation(double t_c) {
    return 6.112 * std::exp(17.62 * t_c / (243.12 + t_c));
}

// One exact step of an Ornstein-Uhlenbeck process with stationary spread sd.
inline double ou_step(double x, double a, double sd, double n) {
    return x * a + sd * std::sqrt(1.0 - a * a) * n;
}

// Moves x towards target with time constant tau (any units, same as dt): exact for a constant
// target, stable for any step.
inline double relax(double x, double target, double dt, double tau) {
    return target + (x - target) * std::exp(-dt / tau);
}

// Rounds to a number of decimals; dividing by the exact power of ten prints shortest (0.3, not
// 0.30000000000000004).
inline double round_to(double v, double scale) {
    return std::round(v * scale) / scale;
}

// One day of the household's life, drawn from its own stream: a pure function of (seed, day).
struct DayPlan {
    bool workday = false;
    bool wfh = false;
    double wake = 7, leave = -1, back = -1, sleep = 23;
    double out_start = -1, out_end = -1;
    double breakfast = 7.3, lunch = -1, dinner = 18.5;
    double shower = 7.1;
};

struct Household {
    double weather = 0; // outdoor temperature anomaly (C), days-long weather systems
    double cloud_z = 0; // cloudiness, logistic scale
    double dew = 0;     // dew point anomaly (C)
    // Derived for the current tick.
    std::int64_t day = -1;
    double hour = 0;
    DayPlan plan;
    Presence presence = Presence::home;
    bool cooking = false, shower = false, evening = false, garage_time = false, wfh_hours = false;
    bool pre_sleep = false;
    double t_out = 10, e_out = 10, outdoor_lux = 0;
};

struct Device {
    DeviceSpec spec;
    Room room = Room::generic;
    const RoomParams* p = nullptr;
    Rng rng;
    core::Millis phase = 0;
    core::Millis jitter_max = 0;
    // Personality: each node a little different.
    double t_offset = 0, h_offset = 0, gas_base = 250, heat_power = 3.5, tau = 10, sp_offset = 0;
    double window_f = 1, lamp_f = 1, voc_amp = 100;
    // State.
    bool occupied = false, heat_on = false, cool_on = false;
    double temp = 20;
    double twin_temp = 20; // the same room without incidents: how far an HVAC fault has pushed it
    bool twin_heat_on = false, twin_cool_on = false;
    double vapour = 10, turb = 0, gas_drift = 0, voc = 0;
    double fire_heat = 0, smoke = 0, leak = 0;
    bool fan = false, valve_closed = false, buzzer = false, relay = false;
    std::int64_t seq = 0;
    std::array<double, kSensorCount> last{};
    std::array<bool, kSensorCount> has_last{};
    std::array<record::Reading, kSensorCount> readings;
};

// Whether someone is in the room (a two-state chain per room whose stationary chance follows
// the household's day); returns whether they sleep there.
[[nodiscard]] bool step_occupancy(Device& d, const Household& hh, double dt_min, double u_occ);

// Daylight through the windows (curtains drawn while asleep) plus lamps, an intruder's lamp and
// torch, and a fire's glow.
struct Light {
    double daylight = 0;
    double lux = 0;
};
[[nodiscard]] Light room_light(const Device& d, const Household& hh, bool sleeping,
                               bool intruder_lamp, double glow, double flashlight);

// A first-order room with an on/off thermostat (hysteresis +-0.3 C), and its twin without
// incidents; returns the air temperature with a fire's heat.
[[nodiscard]] double step_temperature(Device& d, const Household& hh, double daylight,
                                      bool sleeping, int hvac_fault, double dt_h, double dt_min,
                                      double n_turb);

// Vapour pressure relaxing to outdoors through ventilation, people, cooking and showers adding
// to it; returns the relative humidity at t_air.
[[nodiscard]] double step_humidity(Device& d, const Household& hh, bool sleeping, double t_air,
                                   double dt_h);

// MQ-2: a clean-air baseline that drifts slowly (weather, ageing), reads a little higher in
// humid or warm air; cooking adds fumes in the kitchen, a leak and smoke add theirs.
struct GasLevel {
    double base = 0;  // the clean-air baseline
    double total = 0; // what the sensor sees
};
[[nodiscard]] GasLevel step_gas(Device& d, const Household& hh, double rh, double t_air,
                                core::Millis since_start, double dt_h, double dt_min,
                                double n_drift);

// PIR: the chance of a trigger in this step; someone moving in the room, an intruder, a fire's
// hot gas, rare false triggers otherwise.
[[nodiscard]] double motion_chance(const Device& d, bool sleeping, bool intruder, bool burning,
                                   core::Millis interval);

} // namespace iots::sim::model
