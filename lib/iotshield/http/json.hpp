#pragma once
// Rows of the store as JSON for the API and the live stream. Times are RFC 3339 (ts) with the epoch
// milliseconds beside them (ts_ms), so charts need no date parsing.
#include "iotshield/store/queries.hpp"

#include <nlohmann/json.hpp>

namespace iots::http {

[[nodiscard]] nlohmann::json reading_json(const store::ReadingRow& r);
[[nodiscard]] nlohmann::json anomaly_json(const store::AnomalyRow& a);
[[nodiscard]] nlohmann::json alert_json(const store::AlertRow& a);
[[nodiscard]] nlohmann::json command_json(const store::CommandRow& c);
[[nodiscard]] nlohmann::json device_json(const store::DeviceRow& d, std::int64_t now_ms,
                                         std::int64_t active_window_ms);
[[nodiscard]] nlohmann::json summary_json(const store::Summary& s);
[[nodiscard]] nlohmann::json series_json(const store::SeriesRange& r);
// to_text(series_json(r)), the same text, with the points (up to 5,000 pairs) written straight
// into it instead of through a JSON value each (a year at 1000 points: a quarter of the request).
[[nodiscard]] std::string series_text(const store::SeriesRange& r);

// Compact text; invalid UTF-8 from a device or a model is replaced (U+FFFD), never thrown on.
[[nodiscard]] std::string to_text(const nlohmann::json& j);

} // namespace iots::http
