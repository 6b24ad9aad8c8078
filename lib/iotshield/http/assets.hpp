#pragma once
// The dashboard's files (web/), embedded at build time by embed_web.cmake.
#include <cstddef>
#include <span>
#include <string_view>

namespace iots::http {

struct Asset {
    std::string_view path; // "/index.html"
    std::string_view content_type;
    const unsigned char* data;
    std::size_t size;
    const unsigned char*
        gzip; // the same bytes gzip-compressed at build time; nullptr: not worth it
    std::size_t gzip_size;
    std::string_view version; // 16 hex digits of the SHA-256 of data: the ETag and the ?v= in URLs
};

// All embedded files, sorted by path.
[[nodiscard]] std::span<const Asset> assets() noexcept;
// nullptr when there is no such file.
[[nodiscard]] const Asset* find_asset(std::string_view path) noexcept;

// The CSP hash sources ('sha256-...', space-separated) of the <style> blocks that
// embed_web.cmake inlined into index.html; empty if none.
[[nodiscard]] std::string_view style_hashes() noexcept;

// True when an Accept-Encoding header value admits gzip: listed (or "*") without q=0.
[[nodiscard]] bool accepts_gzip(std::string_view accept_encoding) noexcept;

} // namespace iots::http
