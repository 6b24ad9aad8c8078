#include "iotshield/alert/http.hpp"

#include <curl/curl.h>

#include <mutex>

namespace iots::alert {

namespace {
constexpr std::size_t kMaxBody = 1024 * 1024;

struct CurlDeleter {
    void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* out = static_cast<std::string*>(user);
    const std::size_t bytes = size * n;
    if (out->size() + bytes > kMaxBody)
        return 0; // aborts the transfer: an answer this large is not an alert text
    out->append(data, bytes);
    return bytes;
}
} // namespace

void http_global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct HttpClient::Impl {
    CurlPtr curl;
};

HttpClient::HttpClient() : m_impl(std::make_unique<Impl>()) {
    http_global_init();
    m_impl->curl.reset(curl_easy_init());
}

HttpClient::~HttpClient() = default;

HttpResponse HttpClient::post(const std::string& url, const std::vector<std::string>& headers,
                              const std::string& body, core::Millis timeout_ms) {
    HttpResponse r;
    CURL* c = m_impl->curl.get();
    if (c == nullptr) {
        r.error = "curl_easy_init failed";
        return r;
    }
    curl_easy_reset(c);
    SlistPtr list;
    for (const auto& h : headers) {
        curl_slist* next = curl_slist_append(list.get(), h.c_str());
        if (next == nullptr) {
            r.error = "out of memory";
            return r;
        }
        (void)list.release();
        list.reset(next);
    }
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_ms));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); // worker thread: no SIGALRM for DNS timeouts
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "iots-alert/0.1");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        r.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        r.error = curl_easy_strerror(rc);
        r.status = 0;
        return r;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_off_t retry = -1;
    if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry) == CURLE_OK && retry > 0)
        r.retry_after = static_cast<core::Millis>(retry) * 1000;
    return r;
}

} // namespace iots::alert
