#include "iotshield/exporter/service.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/exporter/policy.hpp"
#include "iotshield/exporter/windows.hpp"
#include "iotshield/record/aggregate.hpp"
#include "iotshield/store/database.hpp"
#include "iotshield/store/ledger.hpp"

#include <fmt/format.h>

#include <map>

namespace iots::exporter {

namespace {
constexpr core::Millis kDayMs = 86400000;

struct DayCost {
    std::int64_t aggregates = 0;
    privacy::Cost cost;
};

store::OpenOptions open_options() {
    store::OpenOptions o;
    o.create = false; // a missing database is exit 66, not an empty release
    o.require_write = false;
    return o;
}

record::BudgetLine line_of(std::string_view kind, std::string_view destination,
                           std::string_view day, std::int64_t releases, std::int64_t aggregates,
                           const privacy::Cost& cost) {
    record::BudgetLine b;
    b.kind = kind;
    b.destination = destination;
    b.day = day;
    b.releases = releases;
    b.aggregates = aggregates;
    b.epsilon = cost.epsilon;
    b.delta = cost.delta;
    return b;
}

std::string release_id(core::Millis now, privacy::RandomSource& rng) {
    return fmt::format("{}-{:08x}", core::format_rfc3339(now), rng.next() & 0xffffffffU);
}

int report(const Options& o, store::Database& db, core::LineWriter& out) {
    std::optional<Policy> policy;
    if (!o.policy_path.empty())
        policy = load_policy(o.policy_path);
    store::Ledger ledger(db);
    std::optional<std::string> only;
    if (!o.destination.empty())
        only = o.destination;
    std::string line;
    for (const store::DaySpent& d : ledger.report(only)) {
        record::BudgetLine b =
            line_of("budget", d.destination, d.day, d.releases, d.aggregates, {d.epsilon, d.delta});
        if (policy) {
            const privacy::Cost left = privacy::left({d.epsilon, d.delta}, policy->budget);
            b.budget_epsilon = policy->budget.epsilon;
            b.budget_delta = policy->budget.delta;
            b.left_epsilon = left.epsilon;
            b.left_delta = left.delta;
        }
        line.clear();
        record::append_json(b, line);
        out.write_line(line);
    }
    out.flush();
    return 0;
}
} // namespace

int run(const Options& o, const core::Logger& log, core::LineWriter& out,
        privacy::RandomSource& rng, core::Millis now) {
    if (o.report) {
        store::Database db(o.db_path, open_options());
        return report(o, db, out);
    }
    if (o.policy_path.empty() || o.destination.empty())
        throw Error(Exit::usage, "--policy and --destination are required to release (or give "
                                 "--report)");
    const Policy policy = load_policy(o.policy_path);
    // The range: whole windows, and only windows that are over.
    core::Millis since = o.since ? *o.since : (now / kDayMs - 1) * kDayMs;
    core::Millis until = o.until ? *o.until : since + kDayMs;
    since -= ((since % policy.window_ms) + policy.window_ms) % policy.window_ms;
    until +=
        (policy.window_ms - ((until % policy.window_ms) + policy.window_ms) % policy.window_ms) %
        policy.window_ms;
    if (until <= since)
        throw Error(Exit::usage, "--until: not after --since");
    if (until > now)
        throw Error(Exit::usage, "--until: the window ending at " + core::format_rfc3339(until) +
                                     " is not over yet");

    store::Database db(o.db_path, open_options());
    const Windows windows = collect(db, policy, since, until, rng);

    std::map<std::string, DayCost> days; // UTC day -> what this release costs it
    for (const Charge& c : windows.charges) {
        DayCost& d = days[store::utc_day(c.window_start)];
        ++d.aggregates;
        d.cost += c.cost;
    }

    store::Ledger ledger(db);
    std::optional<store::Transaction> tx;
    if (!o.dry_run)
        tx.emplace(db); // the check and the new rows in one write transaction
    std::string refused;
    std::string line;
    for (const auto& [day, d] : days) {
        const store::DaySpent s = ledger.spent(o.destination, day);
        const privacy::Cost spent{s.epsilon, s.delta};
        const bool fits = privacy::fits(spent, d.cost, policy.budget);
        if (!fits && refused.empty())
            refused = fmt::format("destination '{}', day {}: this release needs {}, but only {} "
                                  "is left of the day's budget ({})",
                                  o.destination, day, privacy::describe(d.cost),
                                  privacy::describe(privacy::left(spent, policy.budget)),
                                  privacy::describe({policy.budget.epsilon, policy.budget.delta}));
        if (o.dry_run) {
            const privacy::Cost left = privacy::left(spent, policy.budget);
            record::BudgetLine b =
                line_of("release_plan", o.destination, day, 1, d.aggregates, d.cost);
            b.spent_epsilon = spent.epsilon;
            b.spent_delta = spent.delta;
            b.budget_epsilon = policy.budget.epsilon;
            b.budget_delta = policy.budget.delta;
            b.left_epsilon = left.epsilon;
            b.left_delta = left.delta;
            b.fits = fits;
            line.clear();
            record::append_json(b, line);
            out.write_line(line);
        } else if (fits) {
            ledger.add({o.destination, day, now, release_id(now, rng), d.aggregates, d.cost.epsilon,
                        d.cost.delta});
        }
    }
    if (o.dry_run) {
        out.flush();
        log.info("dry run: {} aggregates about {} day(s) for '{}' would be released; nothing "
                 "spent",
                 windows.records.size(), days.size(), o.destination);
        if (!refused.empty())
            throw Error(Exit::permission, "budget: " + refused + "; the release would be refused");
        return 0;
    }
    if (!refused.empty())
        throw Error(Exit::permission, "budget: " + refused + "; nothing released");
    tx->commit(); // spent before anything leaves: a failed write below has still cost its budget
    for (const std::string& r : windows.records)
        out.write_line(r);
    out.flush();
    privacy::Cost total;
    for (const auto& [day, d] : days)
        total += d.cost;
    log.info("released {} aggregates about {} day(s) to '{}': {} in all", windows.records.size(),
             days.size(), o.destination, privacy::describe(total));
    return 0;
}

} // namespace iots::exporter
