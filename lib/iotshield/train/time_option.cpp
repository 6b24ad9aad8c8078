#include "iotshield/train/time_option.hpp"

#include "iotshield/core/error.hpp"

#include <charconv>

namespace iots::train {

core::Millis parse_time(const std::string& option, const std::string& text) {
    if (auto t = core::parse_rfc3339(text))
        return *t;
    core::Millis ms = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc{} || p != text.data() + text.size())
        throw Error(Exit::usage, option + ": '" + text + "' is neither RFC 3339 nor epoch ms");
    return ms;
}

} // namespace iots::train
