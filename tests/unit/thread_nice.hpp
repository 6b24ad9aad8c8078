#pragma once
// Nice values of this process's threads, from /proc/self/task/TID/stat (field 19), for the tests
// of threads that lower their own priority (core::make_background_thread).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace iots::test {

inline std::vector<int> thread_nices() {
    std::vector<int> nices;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream in(task.path() / "stat");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto close = text.rfind(')'); // the name may hold spaces
        if (close == std::string::npos)
            continue;
        std::istringstream fields(text.substr(close + 2));
        std::string f;
        // After the name: state (3), ppid (4), ... priority (18), nice (19).
        for (int i = 3; i < 19 && fields >> f; ++i) {
        }
        int nice = 0;
        if (fields >> nice)
            nices.push_back(nice);
    }
    return nices;
}

// Threads of this process at nice `nice`, once there are at least `want` (waiting up to 10 s for
// a thread to start and lower itself), else the count at the end.
inline std::size_t threads_at_nice(int nice, std::size_t want) {
    std::size_t n = 0;
    for (int i = 0; i < 1000; ++i) {
        n = 0;
        for (int x : thread_nices())
            n += x == nice ? 1 : 0;
        if (n >= want)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return n;
}

} // namespace iots::test
