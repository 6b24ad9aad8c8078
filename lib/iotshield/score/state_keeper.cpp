#include "iotshield/score/state_keeper.hpp"

#include "iotshield/core/error.hpp"
#include "iotshield/detect/state_file.hpp"
#include "iotshield/score/clock.hpp"

#include <sys/stat.h>
#include <utility>

namespace iots::score {

StateKeeper::StateKeeper(const core::Logger& log, std::string path, core::Millis every_ms)
    : m_log(log), m_path(std::move(path)), m_every(every_ms), m_last(monotonic_ms()) {}

void StateKeeper::load(detect::Detector& detector) const {
    const auto info = detect::load_state(m_path, detector);
    if (!info) {
        m_log.info("state {}: none yet, learning from scratch", m_path);
        return;
    }
    m_log.info("state {}: {} series, written {}", m_path, info->series,
               core::format_rfc3339(info->written_at));
    for (const auto& note : info->notes)
        m_log.info("state {}: {}", m_path, note);
}

void StateKeeper::tick(const detect::Detector& detector) {
    if (m_every > 0 && monotonic_ms() - m_last >= m_every)
        save(detector);
}

void StateKeeper::save(const detect::Detector& detector) {
    m_last = monotonic_ms();
    try {
        detect::save_state(m_path, detector, core::now_millis());
    } catch (const Error& e) {
        ++m_failures;
        m_log.warn("{}; keeping the previous state", e.what());
    }
}

bool same_file(const std::string& a, const std::string& b) {
    struct stat sa {};
    struct stat sb {};
    if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0)
        return a == b;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

} // namespace iots::score
