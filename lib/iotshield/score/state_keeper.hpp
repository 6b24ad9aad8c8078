#pragma once
// --state: read at start, written every `every_ms` (0: only at exit) and at exit. A failed write
// is a warning, counted, and the previous file stays: scoring goes on.
#include "iotshield/core/log.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/detect/detector.hpp"

#include <cstdint>
#include <string>

namespace iots::score {

class StateKeeper {
public:
    StateKeeper(const core::Logger& log, std::string path, core::Millis every_ms);

    void load(detect::Detector& detector) const;
    // Writes the state when `every_ms` has passed since the last write.
    void tick(const detect::Detector& detector);
    void save(const detect::Detector& detector);
    [[nodiscard]] std::uint64_t failures() const noexcept { return m_failures; }

private:
    const core::Logger& m_log;
    std::string m_path;
    core::Millis m_every;
    core::Millis m_last;
    std::uint64_t m_failures = 0;
};

// The same path, or two names of one existing file.
[[nodiscard]] bool same_file(const std::string& a, const std::string& b);

} // namespace iots::score
