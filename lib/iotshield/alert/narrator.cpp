#include "iotshield/alert/narrator.hpp"

#include "iotshield/alert/http.hpp"

#include <fmt/format.h>

#include <chrono>
#include <random>

namespace iots::alert {

std::string endpoint(const NarratorOptions& o) {
    std::string base = o.url;
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    if (o.provider == Provider::gemini)
        return fmt::format("{}/v1beta/models/{}:generateContent", base, o.model);
    return base + "/chat/completions";
}

Request build_request(const NarratorOptions& o, std::string_view facts) {
    Request r;
    r.url = endpoint(o);
    r.headers.emplace_back("Content-Type: application/json");
    if (o.provider == Provider::gemini) {
        r.body = gemini_body(facts, o.model);
        r.headers.push_back("x-goog-api-key: " + o.api_key); // a header, so no key in any URL
    } else {
        r.body = openai_body(facts, o.model);
        if (!o.api_key.empty())
            r.headers.push_back("Authorization: Bearer " + o.api_key);
    }
    return r;
}

NarratorWorker::NarratorWorker(NarratorOptions options, const core::Logger& log,
                               std::function<void()> wake)
    : m_options(std::move(options)), m_log(log), m_wake(std::move(wake)) {
    http_global_init();
    m_thread = std::thread([this] { run(); });
}

NarratorWorker::~NarratorWorker() {
    stop();
}

bool NarratorWorker::submit(const Alert& rules_alert, std::string facts) {
    {
        std::lock_guard lock(m_mutex);
        if (m_stop || m_queue.size() >= m_options.queue) {
            ++m_counters.skipped;
            return false;
        }
        ++m_counters.submitted;
        m_queue.push_back(Job{rules_alert, std::move(facts)});
    }
    m_cv.notify_all();
    return true;
}

std::vector<Alert> NarratorWorker::take_updates() {
    std::lock_guard lock(m_mutex);
    std::vector<Alert> out;
    out.swap(m_updates);
    return out;
}

bool NarratorWorker::idle() const {
    std::lock_guard lock(m_mutex);
    return m_queue.empty() && !m_busy;
}

void NarratorWorker::stop() {
    {
        std::lock_guard lock(m_mutex);
        if (m_stop && !m_thread.joinable())
            return;
        m_stop = true;
        m_counters.dropped += m_queue.size();
        m_queue.clear();
    }
    m_cv.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

NarratorCounters NarratorWorker::counters() const {
    std::lock_guard lock(m_mutex);
    return m_counters;
}

bool NarratorWorker::pause(core::Millis ms) {
    std::unique_lock lock(m_mutex);
    return !m_cv.wait_for(lock, std::chrono::milliseconds(ms), [this] { return m_stop; });
}

void NarratorWorker::run() {
    HttpClient http; // one handle for the thread: connections to the model are reused
    for (;;) {
        Job job;
        {
            std::unique_lock lock(m_mutex);
            m_cv.wait(lock, [this] { return m_stop || !m_queue.empty(); });
            if (m_stop)
                return;
            job = std::move(m_queue.front());
            m_queue.pop_front();
            m_busy = true;
        }
        narrate(job, http);
        {
            std::lock_guard lock(m_mutex);
            m_busy = false;
        }
        if (m_wake)
            m_wake();
    }
}

void NarratorWorker::narrate(Job& job, HttpClient& http) {
    const Request req = build_request(m_options, job.facts);
    std::mt19937 rng(std::random_device{}());
    const auto name = provider_name(m_options.provider);
    Failure failure = Failure::none;
    std::string detail;
    for (int attempt = 0;; ++attempt) {
        const HttpResponse resp = http.post(req.url, req.headers, req.body, m_options.timeout_ms);
        std::optional<core::Millis> retry_after = resp.retry_after;
        if (resp.status == 0) {
            failure = resp.timed_out ? Failure::timeout : Failure::network;
            detail = resp.error;
        } else if (failure = classify_status(resp.status); failure != Failure::none) {
            detail = fmt::format("HTTP {}", resp.status);
            if (const auto msg = error_message(resp.body); !msg.empty())
                detail += ": " + msg;
            if (!retry_after)
                retry_after = retry_delay_from_body(resp.body);
        } else {
            ParseResult pr = m_options.provider == Provider::gemini ? parse_gemini(resp.body)
                                                                    : parse_openai(resp.body);
            if (pr.answer) {
                Alert update = apply_answer(job.alert, *pr.answer, m_options.provider);
                std::lock_guard lock(m_mutex);
                m_updates.push_back(std::move(update));
                ++m_counters.updated;
                return;
            }
            failure = pr.failure;
            detail = pr.detail;
        }
        if (!m_options.api_key.empty()) { // a server may echo what it was sent
            for (auto pos = detail.find(m_options.api_key); pos != std::string::npos;
                 pos = detail.find(m_options.api_key))
                detail.replace(pos, m_options.api_key.size(), "***");
        }
        if (!retryable(failure) || attempt >= m_options.retries)
            break;
        core::Millis wait = m_options.backoff_ms << attempt;
        wait += std::uniform_int_distribution<core::Millis>(0, wait / 2)(rng); // jitter
        if (retry_after)
            wait = std::max(wait, *retry_after);
        if (wait > m_options.max_wait_ms) {
            detail += fmt::format(" (retry in {} ms is too late)", wait);
            break;
        }
        m_log.debug("{} narrator: {} ({}), retry {} in {} ms", name, failure_name(failure), detail,
                    attempt + 1, wait);
        {
            std::lock_guard lock(m_mutex);
            ++m_counters.retries;
        }
        if (!pause(wait)) { // stopping: counted with the queue's jobs as dropped
            std::lock_guard lock(m_mutex);
            ++m_counters.dropped;
            return;
        }
    }
    m_log.warn("{} narrator: alert {}: {} ({}); the rules text stands", name, job.alert.id,
               failure_name(failure), detail);
    std::lock_guard lock(m_mutex);
    ++m_counters.fallback;
    ++m_counters.by_failure[static_cast<std::size_t>(failure)];
}

} // namespace iots::alert
