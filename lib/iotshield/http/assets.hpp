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
};

// All embedded files, sorted by path.
[[nodiscard]] std::span<const Asset> assets() noexcept;
// nullptr when there is no such file.
[[nodiscard]] const Asset* find_asset(std::string_view path) noexcept;

} // namespace iots::http
