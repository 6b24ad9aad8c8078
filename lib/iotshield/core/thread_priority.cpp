#include "iotshield/core/thread_priority.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace iots::core {
namespace {

id_t this_thread_id() noexcept {
    return static_cast<id_t>(::syscall(SYS_gettid));
}

} // namespace

int thread_nice() noexcept {
    errno = 0;
    const int n = ::getpriority(PRIO_PROCESS, this_thread_id());
    return errno == 0 ? n : 0;
}

bool make_background_thread() noexcept {
    // On Linux PRIO_PROCESS with a thread id sets that thread's nice value alone (setpriority(2),
    // BUGS: the threads of a process do not share one).
    const int target = thread_nice() + kBackgroundNice;
    return ::setpriority(PRIO_PROCESS, this_thread_id(), target > 19 ? 19 : target) == 0;
}

} // namespace iots::core
