#pragma once
// Text from a client or a device, made safe to write into a log line: a value may not end the
// line, start a forged one or send escape sequences to the terminal that shows the log.
#include <string>
#include <string_view>

namespace iots::core {

// Control characters (C0, DEL and C1) and bytes that are not UTF-8 become \n, \r, \t, \xNN or
// \u00NN; a backslash becomes \\, so every escape is unambiguous. Other text is kept as it is.
[[nodiscard]] std::string printable(std::string_view text);

} // namespace iots::core
