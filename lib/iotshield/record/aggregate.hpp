#pragma once
// The aggregate record of DESIGN §2, what iots-export releases, and the two lines of its plan and
// report. A view: the strings belong to the caller. Keys in a fixed order.
#include "iotshield/core/time.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iots::record {

// The "privacy" member: how the values of the record were noised, and what they cost together.
struct PrivacyNote {
    std::string_view mech; // laplace | gaussian | randomized_response
    double epsilon = 0;    // the record's whole cost (mean, min and max together)
    double delta = 0;      // written when above 0
    std::optional<double> sensitivity;
    std::optional<double> lo, hi; // the clamp, written as "clamp":[lo,hi]
};

struct Aggregate {
    core::Millis window_start = 0;
    std::int64_t window_s = 0;
    std::string_view device;
    std::string_view sensor;
    std::optional<double> mean;
    std::optional<double> min, max;
    std::optional<std::int64_t> count;
    std::optional<bool> any; // randomized response: was there an event in the window
    PrivacyNote privacy;
};

// {"kind":"aggregate","window_start":"…Z","window_s":3600,"device":…,"sensor":…,"mean":…,
//  "min":…,"max":…,"count":…,"any":…,"privacy":{"mech":…,"epsilon":…,"delta":…,
//  "sensitivity":…,"clamp":[lo,hi]}}, the members that are set.
void append_json(const Aggregate& a, std::string& out);

// One destination's spending on one day: {"kind":KIND,"destination":…,"day":…,"releases":…,
// "aggregates":…,"epsilon":…,"delta":…, then "budget_epsilon","budget_delta","left_epsilon",
// "left_delta" when a budget is known, then "fits" when set}. KIND is "budget" (--report) or
// "release_plan" (--dry-run: releases and aggregates are what the release would add).
struct BudgetLine {
    std::string_view kind;
    std::string_view destination;
    std::string_view day;
    std::int64_t releases = 0;
    std::int64_t aggregates = 0;
    double epsilon = 0;
    double delta = 0;
    std::optional<double> budget_epsilon, budget_delta, left_epsilon, left_delta;
    std::optional<double> spent_epsilon, spent_delta; // the plan: already spent that day
    std::optional<bool> fits;
};
void append_json(const BudgetLine& b, std::string& out);

} // namespace iots::record
