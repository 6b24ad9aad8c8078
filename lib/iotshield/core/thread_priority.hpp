#pragma once
// Bulk work beside an alarm path: WAL checkpoints, the alert writer's commits, iots-ingest's store
// thread when it passes nothing on. None of them is waited for by the path of a reading to its
// alert, but on a busy machine (two cores shared by the broker, four tools and a dashboard) they
// compete with it for the CPU: a network thread woken by a fire reading waits in the run queue
// behind a thread copying WAL pages. A background thread asks the kernel for a lower share
// (nice +kBackgroundNice, only for the calling thread): it still gets the CPU whenever the alarm
// path does not want it, so its throughput is unchanged on a machine with room to spare.

namespace iots::core {

inline constexpr int kBackgroundNice = 5;

// Lowers the calling thread's priority by kBackgroundNice (Linux: a thread's own nice value; never
// needs privileges). Returns false when the kernel refused; the thread then runs as before.
bool make_background_thread() noexcept;

// The calling thread's nice value (for tests and counters).
int thread_nice() noexcept;

} // namespace iots::core
