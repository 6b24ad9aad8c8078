#pragma once
// One HTTPS POST through libcurl, RAII over CURL* and curl_slist*. The only place libcurl is used.
// Nothing here logs: the caller decides what may be printed (never a header, never a key).
#include "iotshield/core/time.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace iots::alert {

struct HttpResponse {
    long status = 0;                         // 0: no HTTP answer (see error)
    std::string body;                        // capped at 1 MiB
    std::optional<core::Millis> retry_after; // Retry-After header (seconds or HTTP date)
    bool timed_out = false;
    std::string error; // curl's message when status is 0
};

// Call once, on the main thread, before any HttpClient exists (curl_global_init is not
// thread-safe).
void http_global_init();

class HttpClient {
public:
    HttpClient();
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // headers: "Name: value" lines. Connection reuse across calls keeps a local model fast.
    HttpResponse post(const std::string& url, const std::vector<std::string>& headers,
                      const std::string& body, core::Millis timeout_ms);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace iots::alert
