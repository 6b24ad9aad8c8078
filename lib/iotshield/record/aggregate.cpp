#include "iotshield/record/aggregate.hpp"

#include "iotshield/record/serialize.hpp"

#include <cstdio>
#include <cstdlib>

namespace iots::record {

namespace {
void member(std::string_view k, std::string_view v, std::string& out) {
    append_key(k, out);
    append_json_string(v, out);
}
void member(std::string_view k, double v, std::string& out) {
    append_key(k, out);
    append_number(v, out);
}
// Sums of epsilons to 12 significant digits: 21.6, not 21.600000000000048.
void budget_member(std::string_view k, double v, std::string& out) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.12g", v);
    member(k, std::strtod(buf, nullptr), out);
}
void member(std::string_view k, std::int64_t v, std::string& out) {
    append_key(k, out);
    out += std::to_string(v);
}
} // namespace

void append_json(const Aggregate& a, std::string& out) {
    out += R"({"kind":"aggregate")";
    member("window_start", std::string_view(core::format_rfc3339(a.window_start)), out);
    member("window_s", a.window_s, out);
    member("device", a.device, out);
    member("sensor", a.sensor, out);
    if (a.mean)
        member("mean", *a.mean, out);
    if (a.min)
        member("min", *a.min, out);
    if (a.max)
        member("max", *a.max, out);
    if (a.count)
        member("count", *a.count, out);
    if (a.any) {
        append_key("any", out);
        out += *a.any ? "true" : "false";
    }
    append_key("privacy", out);
    out += R"({"mech":)";
    append_json_string(a.privacy.mech, out);
    budget_member("epsilon", a.privacy.epsilon, out);
    if (a.privacy.delta > 0)
        budget_member("delta", a.privacy.delta, out);
    if (a.privacy.sensitivity)
        member("sensitivity", *a.privacy.sensitivity, out);
    if (a.privacy.lo && a.privacy.hi) {
        append_key("clamp", out);
        out += '[';
        append_number(*a.privacy.lo, out);
        out += ',';
        append_number(*a.privacy.hi, out);
        out += ']';
    }
    out += "}}";
}

void append_json(const BudgetLine& b, std::string& out) {
    out += R"({"kind":)";
    append_json_string(b.kind, out);
    member("destination", b.destination, out);
    member("day", b.day, out);
    member("releases", b.releases, out);
    member("aggregates", b.aggregates, out);
    budget_member("epsilon", b.epsilon, out);
    budget_member("delta", b.delta, out);
    const auto opt = [&](std::string_view k, const std::optional<double>& v) {
        if (v)
            budget_member(k, *v, out);
    };
    opt("spent_epsilon", b.spent_epsilon);
    opt("spent_delta", b.spent_delta);
    opt("budget_epsilon", b.budget_epsilon);
    opt("budget_delta", b.budget_delta);
    opt("left_epsilon", b.left_epsilon);
    opt("left_delta", b.left_delta);
    if (b.fits) {
        append_key("fits", out);
        out += *b.fits ? "true" : "false";
    }
    out += '}';
}

} // namespace iots::record
