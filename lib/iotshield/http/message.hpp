#pragma once
// A request and its answer as the routes see them, whatever carries them over the network
// (listener.hpp): the routes, the guard and the tests do not depend on the server library.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iots::http {

// Header or parameter lines in the order they came; names of headers compare without case.
using Fields = std::vector<std::pair<std::string, std::string>>;

struct Request {
    std::string method;
    std::string target; // as sent: "/api/alerts/list/?limit=5"
    std::string path;   // the target's path, percent-decoded
    Fields headers;
    Fields params; // the query, percent-decoded ('+' is a space)
    std::string body;
    std::string remote_addr;          // the client's address
    std::string local_addr;           // the address of this machine the connection came in on
    std::vector<std::string> matches; // the route's capture groups, [0] the whole path

    [[nodiscard]] bool has_header(std::string_view name) const;
    // The first value, or "".
    [[nodiscard]] std::string get_header_value(std::string_view name) const;
    // Every value, repeated headers as separate entries.
    [[nodiscard]] std::vector<std::string> header_values(std::string_view name) const;
    [[nodiscard]] bool has_param(std::string_view name) const;
    [[nodiscard]] std::string get_param_value(std::string_view name) const;
};

// An answer that stays open: the live stream's events after `after`, until either side ends it.
// `hold` is released when the stream ends (or is never started): it gives back the stream's slot.
struct EventStream {
    std::uint64_t after = 0;
    std::string first; // sent at once, before any event
    std::shared_ptr<void> hold;
};

struct Response {
    int status = 200;
    Fields headers;
    std::string body;
    std::string_view fixed_body; // bytes that live as long as the program; used when body is empty
    std::optional<EventStream> stream;

    void set_header(std::string name, std::string value);
    [[nodiscard]] bool has_header(std::string_view name) const;
    [[nodiscard]] std::string get_header_value(std::string_view name) const;
};

// Splits a request target into its decoded path and query parameters; false if the target is not
// an origin-form path ("/...") or its escapes are malformed.
[[nodiscard]] bool parse_target(std::string_view target, Request& req);

// "%41+b" -> "A b" (with plus_is_space); nullopt for a malformed escape.
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

} // namespace iots::http
