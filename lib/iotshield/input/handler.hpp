#pragma once
// What a tool gives the input drivers (lines.hpp, messages.hpp): its records, and the moments
// between them. Only record() is required.
#include "iotshield/input/rejects.hpp"

#include <string_view>

namespace iots::input {

class Handler {
public:
    Handler() = default;
    virtual ~Handler() = default;
    Handler(const Handler&) = delete;
    Handler& operator=(const Handler&) = delete;

    // One record: a line that is not blank, or an MQTT payload, within --max-line-bytes. A bad
    // one is rejected through the tool's Rejects. False: stop reading (the tool has what it
    // wanted, like iots-alert -C).
    virtual bool record(std::string_view text, const Origin& origin) = 0;
    // A record the driver rejects itself (longer than --max-line-bytes), told before it is
    // counted: a tool that counts what it received counts it here.
    virtual void skipped(const Origin& /*origin*/) {}
    // At least every kPollEvery records, whenever the input paused, after every wait and after
    // every batch of messages: timers, SIGUSR1's counters, a failure of another thread (throw).
    // False: stop reading.
    virtual bool poll() { return true; }
    // The input paused (the next read would wait): commit and flush what is held.
    virtual void pause() {}
    // While waiting for input, also wake when this descriptor is readable (-1: none) ...
    [[nodiscard]] virtual int wake_fd() const { return -1; }
    // ... and after this many milliseconds at most (-1: no limit).
    [[nodiscard]] virtual int wait_ms() const { return -1; }
};

inline constexpr unsigned kPollEvery = 256;

// Why a driver returned.
enum class End {
    input,   // the end of the input (stdin only)
    stop,    // SIGINT or SIGTERM
    handler, // record() or poll() returned false
};

} // namespace iots::input
