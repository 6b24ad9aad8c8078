#pragma once
// A fake board, flash and broker connection for the firmware core's tests: plain memory, every
// call recorded.
#include "iotsfw/hardware.hpp"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fwtest {

struct FakeBoard final : iots::fw::Hardware {
    iots::fw::Climate climate{true, 21.5, 40.0};
    std::uint16_t mq2 = 1200, ldr = 2048;
    bool flame = false, pir = false;
    std::uint32_t now = 0;
    std::optional<std::int64_t> epoch; // nullopt: NTP not synced
    std::vector<std::pair<iots::fw::Actuator, bool>> relays;
    std::vector<std::string> lines;

    iots::fw::Climate read_dht22() override { return climate; }
    std::uint16_t read_mq2_raw() override { return mq2; }
    std::uint16_t read_ldr_raw() override { return ldr; }
    bool read_flame() override { return flame; }
    bool read_pir() override { return pir; }
    void set_relay(iots::fw::Actuator a, bool on) override { relays.emplace_back(a, on); }
    std::uint32_t millis() override { return now; }
    std::optional<std::int64_t> epoch_ms() override { return epoch; }
    void log(std::string_view line) override { lines.emplace_back(line); }
    void advance(std::uint32_t ms) {
        now += ms;
        if (epoch)
            *epoch += ms;
    }
};

// Flash that survives a "reboot" (a new Node over the same FakeStore) and counts its writes.
struct FakeStore final : iots::fw::Store {
    std::map<std::string, std::uint64_t> u64;
    std::map<std::string, double> dbl;
    int writes = 0;
    bool fail = false;
    std::optional<std::uint64_t> get_u64(const char* key) override {
        const auto it = u64.find(key);
        return it == u64.end() ? std::nullopt : std::optional<std::uint64_t>(it->second);
    }
    bool put_u64(const char* key, std::uint64_t v) override {
        ++writes;
        if (!fail)
            u64[key] = v;
        return !fail;
    }
    std::optional<double> get_double(const char* key) override {
        const auto it = dbl.find(key);
        return it == dbl.end() ? std::nullopt : std::optional<double>(it->second);
    }
    bool put_double(const char* key, double v) override {
        ++writes;
        if (!fail)
            dbl[key] = v;
        return !fail;
    }
};

struct Published {
    std::string topic, payload;
    bool retain = false;
};

struct FakeTransport final : iots::fw::Transport {
    bool up = true;
    std::vector<Published> sent;
    std::vector<std::string> subscriptions;
    bool connected() override { return up; }
    bool publish(std::string_view topic, std::string_view payload, bool retain) override {
        if (!up)
            return false;
        sent.push_back({std::string(topic), std::string(payload), retain});
        return true;
    }
    bool subscribe(std::string_view filter) override {
        subscriptions.emplace_back(filter);
        return up;
    }
};

} // namespace fwtest
