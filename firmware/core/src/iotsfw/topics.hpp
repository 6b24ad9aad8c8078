#pragma once
// The node's topics, laid out as lib/iotshield/mqtt/topics builds them (DESIGN §3; a host test
// checks that both give the same text), plus the node's fault topic.
#include <string>
#include <string_view>

namespace iots::fw {

std::string sensor_topic(std::string_view prefix, std::string_view device, std::string_view sensor);
std::string status_topic(std::string_view prefix, std::string_view device);  // retained
std::string control_topic(std::string_view prefix, std::string_view device); // commands in
std::string ack_topic(std::string_view prefix, std::string_view device);     // …/ack out
// <prefix>/faults/<device>: {"kind":"fault",…} when a read failed or the offline buffer dropped.
std::string fault_topic(std::string_view prefix, std::string_view device);

// 1-64 of A-Z a-z 0-9 _ . - (record's valid_name): a device or sensor name.
[[nodiscard]] bool valid_name(std::string_view name);

} // namespace iots::fw
