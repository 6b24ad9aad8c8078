#pragma once
// The language-model narrator on its own thread: the rules alert is already out, this only adds a
// later update of the same alert id. A bounded queue (full: the alert keeps its rules text, counted
// as skipped), retries with exponential backoff or the server's Retry-After, and a cap on any
// single wait, so slow or dead models never pile work up and never delay an alert.
#include "iotshield/alert/alert.hpp"
#include "iotshield/alert/llm.hpp"
#include "iotshield/core/log.hpp"

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace iots::alert {

class HttpClient;

struct NarratorOptions {
    Provider provider = Provider::gemini;
    std::string model;   // gemini-2.5-flash by default for Gemini
    std::string url;     // base URL: https://generativelanguage.googleapis.com, .../v1
    std::string api_key; // never logged
    core::Millis timeout_ms = 10000;
    int retries = 2;                  // after the first attempt
    core::Millis backoff_ms = 500;    // first backoff; doubles each retry
    core::Millis max_wait_ms = 30000; // a Retry-After longer than this: give up at once
    std::size_t queue = 8;
};

// The endpoint, headers and body of one request (headers hold the key: never print them).
struct Request {
    std::string url;
    std::vector<std::string> headers;
    std::string body;
};
[[nodiscard]] Request build_request(const NarratorOptions& o, std::string_view facts);
// Base URL + "/v1beta/models/<model>:generateContent" or "/chat/completions", no key in the URL.
[[nodiscard]] std::string endpoint(const NarratorOptions& o);

struct NarratorCounters {
    std::uint64_t submitted = 0;
    std::uint64_t updated = 0;  // answers that became an update
    std::uint64_t fallback = 0; // failed after retries: the rules text stands
    std::uint64_t skipped = 0;  // queue full
    std::uint64_t dropped = 0;  // still queued when the tool stopped
    std::uint64_t retries = 0;
    std::array<std::uint64_t, 10> by_failure{}; // indexed by Failure
};

class NarratorWorker {
public:
    // `wake` is called (from the worker thread) whenever an update is ready.
    NarratorWorker(NarratorOptions options, const core::Logger& log, std::function<void()> wake);
    ~NarratorWorker(); // stops and joins
    NarratorWorker(const NarratorWorker&) = delete;
    NarratorWorker& operator=(const NarratorWorker&) = delete;

    // Never blocks. False (and counted) when the queue is full.
    bool submit(const Alert& rules_alert, std::string facts);
    // Updates ready since the last call, in the order they were answered.
    [[nodiscard]] std::vector<Alert> take_updates();
    // Nothing queued and nothing in flight.
    [[nodiscard]] bool idle() const;
    // Stops retrying at once, drops what is queued (counted) and joins the thread.
    void stop();
    [[nodiscard]] NarratorCounters counters() const;

private:
    struct Job {
        Alert alert;
        std::string facts;
    };
    void run();
    void narrate(Job& job, HttpClient& http);
    // Sleeps up to ms, false if stop() came first.
    bool pause(core::Millis ms);

    NarratorOptions m_options;
    const core::Logger& m_log;
    std::function<void()> m_wake;
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<Job> m_queue;
    std::vector<Alert> m_updates;
    bool m_busy = false;
    bool m_stop = false;
    NarratorCounters m_counters;
    std::thread m_thread;
};

} // namespace iots::alert
