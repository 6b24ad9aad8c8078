#include "iotshield/input/wait.hpp"

#include "iotshield/core/error.hpp"

#include <poll.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace iots::input {

bool wait_readable(int fd, int wake, int timeout_ms) {
    pollfd p[2] = {{fd, POLLIN, 0}, {wake, POLLIN, 0}};
    const int rc = ::poll(p, wake >= 0 ? 2 : 1, timeout_ms);
    if (rc < 0 && errno != EINTR)
        throw Error(Exit::io_error, std::string("poll on input failed: ") + std::strerror(errno));
    return rc > 0 && p[0].revents != 0;
}

} // namespace iots::input
