#include "iotshield/http/assets.hpp"

#include <algorithm>

namespace iots::http {

const Asset* find_asset(std::string_view path) noexcept {
    const auto all = assets();
    const auto it = std::lower_bound(all.begin(), all.end(), path,
                                     [](const Asset& a, std::string_view p) { return a.path < p; });
    return it != all.end() && it->path == path ? &*it : nullptr;
}

} // namespace iots::http
