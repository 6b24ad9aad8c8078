// The OpenAPI 3 description of the API. Paths and methods come from routes(), so a route cannot be
// served without being described: a route with no entry in kDetails below throws at first use and
// test_http_api checks every route against the served document.
#include "iotshield/http/json.hpp"
#include "iotshield/http/server.hpp"

#include <stdexcept>

namespace iots::http {

using nlohmann::json;

namespace {

json q(const char* name, const char* type, const char* description, bool required = false,
       json extra = json::object()) {
    json schema{{"type", type}};
    schema.update(extra);
    return json{{"name", name},
                {"in", "query"},
                {"required", required},
                {"description", description},
                {"schema", schema}};
}

json ref(const char* name) {
    return json{{"$ref", std::string("#/components/schemas/") + name}};
}

json ok(const char* description, json schema, const char* type = "application/json") {
    return json{{"description", description}, {"content", {{type, {{"schema", schema}}}}}};
}

json list_of(const char* item) {
    return json{{"type", "object"},
                {"properties",
                 {{"count", {{"type", "integer"}}},
                  {"results", {{"type", "array"}, {"items", ref(item)}}}}}};
}

json error_response(const char* description) {
    return ok(description, ref("Error"));
}

// Per route: parameters, request body and responses beyond the shared error answers.
json details(const std::string& method, const std::string& path) {
    const json limit = q("limit", "integer", "How many, newest first (capped)", false,
                         {{"minimum", 1}, {"default", 50}, {"maximum", 1000}});
    const json time_from = q("from", "string", "Start, RFC 3339 or epoch milliseconds (inclusive)");
    const json time_to = q("to", "string", "End, RFC 3339 or epoch milliseconds (exclusive)");
    const json id_param{{"name", "id"},
                        {"in", "path"},
                        {"required", true},
                        {"schema", {{"type", "string"}, {"maxLength", 128}}}};
    const auto key = method + " " + path;
    if (key == "GET /api/stats/summary/")
        return {{"responses", {{"200", ok("Summary", ref("Summary"))}}}};
    if (key == "GET /api/devices/list/")
        return {{"responses", {{"200", ok("Devices", list_of("Device"))}}}};
    if (key == "GET /api/sensors/recent/")
        return {{"parameters",
                 {limit, q("device", "string", "Only this device", false, {{"maxLength", 64}})}},
                {"responses", {{"200", ok("Readings", list_of("Reading"))}}}};
    if (key == "GET /api/alerts/list/")
        return {{"parameters",
                 {limit,
                  q("severity", "string", "LOW, MEDIUM, HIGH or CRITICAL", false,
                    {{"enum", {"LOW", "MEDIUM", "HIGH", "CRITICAL"}}}),
                  q("status", "string", "new, acknowledged or resolved", false,
                    {{"enum", {"new", "acknowledged", "resolved"}}}),
                  q("device", "string", "Only this device"), time_from, time_to}},
                {"responses", {{"200", ok("Alerts", list_of("Alert"))}}}};
    if (key == "POST /api/alerts/{id}/ack" || key == "POST /api/alerts/{id}/resolve")
        return {{"parameters", {id_param}},
                {"security", {{{"bearer", json::array()}}}},
                {"responses",
                 {{"200", ok("The alert after the change", ref("Alert"))},
                  {"404", error_response("No such alert")},
                  {"409", error_response("Already resolved")}}}};
    if (key == "GET /api/readings")
        return {{"parameters",
                 {q("device", "string", "Device name", true),
                  q("sensor", "string", "Sensor name", true),
                  q("from", "string", "Start (default: 24 h before to)"),
                  q("to", "string", "End (default: now)"),
                  q("points", "integer", "At most this many points (min/max per bucket kept)",
                    false, {{"minimum", 2}, {"default", 1000}, {"maximum", 5000}})}},
                {"responses",
                 {{"200", ok("Series", ref("Series"))},
                  {"404", error_response("The device has no such sensor")}}}};
    if (key == "GET /api/control/list/")
        return {{"parameters",
                 {q("limit", "integer", "How many, newest first (capped)", false,
                    {{"minimum", 1}, {"default", 20}, {"maximum", 200}})}},
                {"responses", {{"200", ok("Commands", list_of("Command"))}}}};
    if (key == "POST /api/control/send/")
        return {{"requestBody",
                 {{"required", true},
                  {"content",
                   {{"application/json",
                     {{"schema",
                       {{"type", "object"},
                        {"required", {"device", "actuator", "action"}},
                        {"properties",
                         {{"device", {{"type", "string"}, {"maxLength", 64}}},
                          {"actuator",
                           {{"type", "string"}, {"enum", {"fan", "valve", "buzzer", "relay"}}}},
                          {"action",
                           {{"type", "string"},
                            {"enum", {"on", "off", "open", "close", "toggle"}}}}}}}}}}}}}},
                {"security", {{{"bearer", json::array()}}}},
                {"responses",
                 {{"202", ok("Published at QoS 1 and stored", ref("Command"))},
                  {"503", error_response("No broker, or the broker did not take it")}}}};
    if (key == "GET /api/stream")
        return {{"parameters",
                 {q("token", "string",
                    "Bearer token, for EventSource clients that cannot send headers")}},
                {"responses",
                 {{"200", ok("Events named reading, anomaly, alert and command; data is JSON",
                             json{{"type", "string"}}, "text/event-stream")},
                  {"503", error_response("Too many live streams open; see Retry-After")}}}};
    if (key == "GET /api/health")
        return {{"responses",
                 {{"200", ok("Healthy", json{{"type", "object"}})},
                  {"503", ok("Database unreadable", json{{"type", "object"}})}}}};
    if (key == "GET /api/openapi.json")
        return {{"responses", {{"200", ok("This document", json{{"type", "object"}})}}}};
    if (key == "GET /metrics")
        return {{"responses",
                 {{"200", ok("Prometheus text format", json{{"type", "string"}}, "text/plain")}}}};
    throw std::logic_error("openapi: no description for " + key);
}

json components() {
    const json str{{"type", "string"}};
    const json num{{"type", "number"}};
    const json integer{{"type", "integer"}};
    const json nnum{{"type", "number"}, {"nullable", true}};
    const json nstr{{"type", "string"}, {"nullable", true}};
    const json time{{"type", "string"}, {"format", "date-time"}};
    return json{
        {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
        {"schemas",
         {{"Error",
           {{"type", "object"},
            {"required", {"error"}},
            {"properties", {{"error", str}, {"parameter", str}}}}},
          {"Reading",
           {{"type", "object"},
            {"properties",
             {{"ts", time},
              {"ts_ms", integer},
              {"device", str},
              {"sensor", str},
              {"value", num},
              {"unit", str},
              {"seq", integer},
              {"score", num},
              {"anomaly", {{"type", "boolean"}}},
              {"label", str}}}}},
          {"Device",
           {{"type", "object"},
            {"properties",
             {{"device", str},
              {"location", str},
              {"online", {{"type", "boolean"}}},
              {"status", nstr},
              {"last_seen", nstr},
              {"sensors", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}}},
          {"Alert",
           {{"type", "object"},
            {"properties",
             {{"id", str},
              {"ts", time},
              {"device", str},
              {"sensor", str},
              {"severity", {{"type", "string"}, {"enum", {"LOW", "MEDIUM", "HIGH", "CRITICAL"}}}},
              {"status", {{"type", "string"}, {"enum", {"new", "acknowledged", "resolved"}}}},
              {"title", str},
              {"description", str},
              {"suggestion", str},
              {"value", nnum},
              {"score", nnum},
              {"incident", str},
              {"source", str},
              {"rules", {{"type", "object"}, {"nullable", true}}}}}}},
          {"Command",
           {{"type", "object"},
            {"properties",
             {{"id", str},
              {"ts", time},
              {"device", str},
              {"actuator", str},
              {"action", str},
              {"status", {{"type", "string"}, {"enum", {"sent", "done", "failed", "timeout"}}}},
              {"ack_ts", nstr},
              {"latency_ms", {{"type", "integer"}, {"nullable", true}}}}}}},
          {"Series",
           {{"type", "object"},
            {"properties",
             {{"device", str},
              {"sensor", str},
              {"unit", str},
              {"count", integer},
              {"downsampled", {{"type", "boolean"}}},
              {"tier", {{"type", "string"}, {"enum", {"raw", "minute", "hour"}}}},
              {"points",
               {{"type", "array"},
                {"items", {{"type", "array"}, {"items", num}, {"minItems", 2}, {"maxItems", 2}}}}},
              {"anomalies", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}}},
          {"Summary",
           {{"type", "object"},
            {"properties",
             {{"total_devices", integer},
              {"active_devices", integer},
              {"total_readings", integer},
              {"total_alerts", integer},
              {"recent_anomalies", integer},
              {"system_status",
               {{"type", "string"}, {"enum", {"ok", "idle", "warning", "critical"}}}},
              {"alerts_by_severity", {{"type", "object"}}},
              {"sensors", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}}}}}};
}

} // namespace

std::string openapi_document() {
    static const std::string kText = [] {
        json paths = json::object();
        for (const auto& r : routes()) {
            json op = details(r.method, r.path);
            op["summary"] = r.summary;
            auto& responses = op["responses"];
            responses["400"] = error_response("A bad parameter, named in the answer");
            responses["401"] = error_response("A bearer token is required (--tokens)");
            responses["403"] = error_response(
                r.method == "POST" ? "Not allowed for this client or token, or sent by a page of "
                                     "another origin (Origin, Sec-Fetch-Site)"
                                   : "Not allowed for this client or token");
            responses["421"] = error_response("Sent to a host name this server does not answer");
            responses["431"] = error_response("The request line and headers pass 16 KiB");
            if (r.method == "POST") {
                responses["413"] = error_response("The body passes 64 KiB");
                responses["415"] =
                    error_response("The body is not sent as application/json, or is compressed");
            }
            std::string m = r.method;
            for (auto& c : m)
                c = static_cast<char>(c - 'A' + 'a');
            paths[r.path][m] = std::move(op);
        }
        json doc{{"openapi", "3.0.3"},
                 {"info",
                  {{"title", "IoTShield iots-serve API"},
                   {"version", "1"},
                   {"description",
                    "Home sensor readings, anomalies, alerts and actuator control. With --tokens "
                    "every call needs a bearer token; POST calls need the control scope."}}},
                 {"paths", std::move(paths)},
                 {"components", components()}};
        return to_text(doc);
    }();
    return kText;
}

} // namespace iots::http
