#include "iotshield/score/service.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/core/signals.hpp"
#include "iotshield/input/rejects.hpp"
#include "iotshield/score/model_setup.hpp"
#include "iotshield/score/score_store.hpp"
#include "iotshield/score/session.hpp"
#include "iotshield/score/state_keeper.hpp"
#include "iotshield/score/summary.hpp"

#include <optional>

namespace iots::score {

int run(const Options& o, const core::Logger& log, core::LineWriter& out) {
    if (!o.state_path.empty() && !o.model_path.empty() && same_file(o.state_path, o.model_path))
        throw Error(Exit::usage, "--state and --model name the same file: the state would "
                                 "overwrite the model");
    const ModelSetup setup = load_model(o, log);
    detect::Detector detector(setup.detector, setup.model ? &*setup.model : nullptr);
    std::optional<StateKeeper> state;
    if (!o.state_path.empty()) {
        state.emplace(log, o.state_path, o.state_every_ms);
        state->load(detector);
    }
    std::optional<ScoreStore> store;
    if (!o.db_path.empty())
        store.emplace(log, o.db_path, o.scores);
    input::Rejects rejects(o.input, log);
    Session s{log,
              out,
              detector,
              rejects,
              state ? &*state : nullptr,
              store ? &*store : nullptr,
              o.anomalies_only,
              {}};
    try {
        if (o.broker.enabled())
            run_mqtt(s, o.broker, o.topics, o.adapt, o.alarm_lane);
        else
            run_stdin(s);
        out.flush();
        if (store) {
            if (!o.broker.enabled() && !core::stop_requested())
                store->drain();
            store->finish();
        }
        if (state)
            state->save(detector);
    } catch (const OutputClosed&) {
        if (store) // the reader left: a quiet stop, after committing the scores of what was read
            store->finish();
        if (state)
            state->save(detector);
        throw;
    } catch (const Error&) { // a database or input error: what was done before it
        log_summary(s);
        throw;
    }
    log_summary(s);
    return 0;
}

} // namespace iots::score
