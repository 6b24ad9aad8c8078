#pragma once
// What iots-serve checks in a request's head before anything else reads it: how its body is
// framed (request smuggling), which name it was sent to (DNS rebinding) and, for a request that
// changes something, which page sent it (cross-site request forgery). Plain strings in, so the
// rules are tested without a server.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iots::http {

// The name in a Host header ("name", "name:port", "[v6]", "[v6]:port"), lower case, without
// brackets or port; nullopt for an empty or malformed one.
[[nodiscard]] std::optional<std::string> host_name(std::string_view host_header);

// The names a request may be addressed to. A page of evil.example whose name an attacker has
// pointed at 127.0.0.1 still sends "Host: evil.example": only names this server is meant for are
// answered. Always: localhost, 127.0.0.0/8 and ::1; the address the connection came in on (a
// client that typed an address has not been sent by a name); the listen address; `extra`.
class HostAllowList {
public:
    HostAllowList(std::vector<std::string> extra, std::string_view listen_host);
    // `local_address`: the address of this machine the connection came in on.
    [[nodiscard]] bool allows(std::string_view name, std::string_view local_address) const;

private:
    std::vector<std::string> m_names; // lower case
};

// Whether an Origin header ("http://host:port") names the same host and port as the Host header
// the request came with (schemes http and https, default ports made explicit).
[[nodiscard]] bool same_origin(std::string_view origin, std::string_view host_header);

// Whether a Sec-Fetch-Site value is one a browser sends for the page's own requests.
[[nodiscard]] bool own_fetch_site(std::string_view sec_fetch_site);

// "application/json" with any parameters, any case. A page of another site can only send
// text/plain, form and multipart bodies without asking first (a CORS preflight, never answered).
[[nodiscard]] bool is_json_media_type(std::string_view content_type);

// How a request's body is delimited, from its Content-Length and Transfer-Encoding headers (all
// their values): the body's framing, or why it is refused (two lengths, a length that is not
// digits, a coding other than chunked, both headers).
struct Framing {
    bool has_body = false;
    bool chunked = false;
    std::string refused; // empty: acceptable
};
[[nodiscard]] Framing framing(const std::vector<std::string>& content_lengths,
                              const std::vector<std::string>& transfer_encodings);

} // namespace iots::http
