#include "iotshield/sim/physics.hpp"

#include <algorithm>
#include <cmath>

namespace iots::sim::model {

bool step_occupancy(Device& d, const Household& hh, double dt_min, double u_occ) {
    const RoomParams& p = *d.p;
    double target = 0, dwell = p.dwell_min;
    bool sleeping = false;
    switch (hh.presence) {
    case Presence::away:
        target = 0;
        break;
    case Presence::asleep:
        if (d.room == Room::bedroom) {
            target = 1;
            sleeping = true;
        } else if (d.room == Room::hallway || d.room == Room::bathroom) {
            target = 0.01; // a night-time visit
            dwell = 3;
        }
        break;
    case Presence::home:
        target = p.p_base;
        if (d.room == Room::kitchen && hh.cooking)
            target = 0.95;
        else if (d.room == Room::living && hh.evening)
            target = 0.8;
        else if (d.room == Room::bedroom && hh.pre_sleep)
            target = 0.6;
        else if (d.room == Room::office && hh.wfh_hours)
            target = 0.85;
        else if (d.room == Room::garage && hh.garage_time)
            target = 0.6;
        else if (d.room == Room::bathroom && hh.shower)
            target = 1.0;
        break;
    }
    if (target <= 0) {
        d.occupied = false;
    } else if (d.occupied) {
        const double leave = target >= 0.999 ? 0 : 1 - std::exp(-dt_min / dwell);
        if (u_occ < leave)
            d.occupied = false;
    } else {
        const double dwell_out = std::max(0.1, dwell * (1 - target) / target);
        if (u_occ < 1 - std::exp(-dt_min / dwell_out))
            d.occupied = true;
    }
    if (sleeping)
        d.occupied = true;
    return sleeping;
}

Light room_light(const Device& d, const Household& hh, bool sleeping, bool intruder_lamp,
                 double glow, double flashlight) {
    const RoomParams& p = *d.p;
    const double curtain = hh.presence == Presence::asleep && d.room == Room::bedroom ? 0.05 : 1.0;
    const double daylight = hh.outdoor_lux * p.window * d.window_f * curtain;
    const bool dark = daylight < 100;
    bool lamp = dark && ((d.occupied && !sleeping) ||
                         (d.room == Room::living && hh.evening && hh.presence == Presence::home));
    if (intruder_lamp && dark)
        lamp = true;
    return {daylight,
            daylight + (lamp ? p.lamp * d.lamp_f : 0) + 0.3 + glow + (dark ? flashlight : 0)};
}

double step_temperature(Device& d, const Household& hh, double daylight, bool sleeping,
                        int hvac_fault, double dt_h, double dt_min, double n_turb) {
    const RoomParams& p = *d.p;
    double sp = hh.presence == Presence::home     ? p.sp_day
                : hh.presence == Presence::asleep ? p.sp_night
                                                  : std::min(p.sp_day, 16.5);
    sp += d.sp_offset;
    const double gains = (d.occupied ? (sleeping ? 0.2 : 0.25) : 0) +
                         (d.room == Room::kitchen && hh.cooking ? 1.5 : 0) +
                         (d.room == Room::bathroom && hh.shower ? 1.2 : 0) + daylight / 1000 * 0.5;
    // Conductance to outdoors (1/h). The fan (ventilation) exchanges the air, but the walls and
    // furniture hold most of the heat: +1/20 h for heat, against +1/0.75 h for moisture below.
    const double g = 1 / d.tau + (d.fan ? 0.05 : 0);
    const auto advance = [&](double& t, bool& heat_on, bool& cool_on, int fault) {
        if (t < sp - 0.3)
            heat_on = true;
        else if (t > sp + 0.3)
            heat_on = false;
        if (p.cooling) {
            if (t > 25.8)
                cool_on = true;
            else if (t < 25.2)
                cool_on = false;
        }
        double power = 0;
        if (fault == 2)
            power = d.heat_power;
        else if (fault == 0)
            power = (heat_on ? d.heat_power : 0) - (cool_on ? 3.0 : 0);
        t = relax(t, hh.t_out + (power + gains) / g, dt_h, 1 / g);
    };
    advance(d.temp, d.heat_on, d.cool_on, hvac_fault);
    advance(d.twin_temp, d.twin_heat_on, d.twin_cool_on, 0);
    d.turb = ou_step(d.turb, std::exp(-dt_min / 5.0), 0.05, n_turb);
    return d.temp + d.fire_heat;
}

double step_humidity(Device& d, const Household& hh, bool sleeping, double t_air, double dt_h) {
    const RoomParams& p = *d.p;
    const double moisture = (d.occupied ? (sleeping ? 1.0 : 0.6) : 0) +
                            (d.room == Room::kitchen && hh.cooking ? 5.0 : 0) +
                            (d.room == Room::bathroom && hh.shower ? 25.0 : 0);
    const double gv = 1 / p.vent_h + (d.fan ? 1 / 0.75 : 0);
    d.vapour = relax(d.vapour, hh.e_out + moisture / gv, dt_h, 1 / gv);
    d.vapour = std::min(d.vapour, 0.97 * saturation(d.temp));
    return 100 * d.vapour / saturation(t_air);
}

GasLevel step_gas(Device& d, const Household& hh, double rh, double t_air, core::Millis since_start,
                  double dt_h, double dt_min, double n_drift) {
    d.gas_drift = ou_step(d.gas_drift, std::exp(-dt_h / 72.0), 0.06, n_drift);
    const double ageing = 0.01 * static_cast<double>(since_start) / (7 * kMsPerDay);
    const double base = d.gas_base * std::exp(d.gas_drift + ageing) *
                        std::clamp(1 + 0.004 * (rh - 45) + 0.008 * (t_air - 20), 0.7, 1.6);
    if (d.room == Room::kitchen)
        d.voc = hh.cooking ? relax(d.voc, d.voc_amp, dt_min, 6)
                           : d.voc * std::exp(-dt_min / (d.fan ? 5.0 : 15.0));
    return {base, base + d.voc + d.leak + d.smoke};
}

double motion_chance(const Device& d, bool sleeping, bool intruder, bool burning,
                     core::Millis interval) {
    const RoomParams& p = *d.p;
    double p5 = d.occupied ? (sleeping ? 0.01 : p.p_motion) : 0.0003;
    if (intruder)
        p5 = std::max(p5, 0.75);
    if (burning)
        p5 = std::max(p5, 0.5); // moving hot gas
    return 1 - std::pow(1 - p5, static_cast<double>(interval) / 5000.0);
}

} // namespace iots::sim::model
