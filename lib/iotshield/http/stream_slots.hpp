#pragma once
// The live streams (GET /api/stream) open now, in all and per client address. cpp-httplib gives
// each open stream a worker thread for as long as it stays open, so without a cap as many clients
// as there are workers leave none for any other request (/api/health included).
#include <map>
#include <mutex>
#include <string>

namespace iots::http {

class StreamSlots {
public:
    StreamSlots(int total, int per_client) : m_total(total), m_per_client(per_client) {}

    // Takes a slot for `client`; false when that client's cap or the total is reached.
    [[nodiscard]] bool take(const std::string& client);
    void give_back(const std::string& client);

    [[nodiscard]] int total_limit() const noexcept { return m_total; }
    [[nodiscard]] int per_client_limit() const noexcept { return m_per_client; }

private:
    const int m_total;
    const int m_per_client;
    std::mutex m_mutex;
    int m_open = 0;
    std::map<std::string, int> m_by_client;
};

} // namespace iots::http
