#pragma once
// For the drivers of input/ only.

namespace iots::input {

// Waits until fd is readable, or wake is (-1: not watched), or timeout_ms passed (-1: no limit), or
// a signal arrived. True only when fd is readable (or at its end). Throws Error(io_error) when
// poll(2) fails.
bool wait_readable(int fd, int wake, int timeout_ms);

} // namespace iots::input
