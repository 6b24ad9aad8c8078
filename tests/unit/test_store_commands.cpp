// A command's life in the database (store::Commands): sent -> done|failed on the device's answer,
// sent -> timeout when it is older than the deadline, and a late answer replacing "timeout".
#define BOOST_TEST_MODULE store_commands
#include "iotshield/store/commands.hpp"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <string>

using namespace iots;

namespace {
struct TempDb {
    std::filesystem::path dir;
    TempDb() {
        dir = std::filesystem::temp_directory_path() /
              ("iots-store-commands-" + std::to_string(getpid()));
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
    }
    ~TempDb() { std::filesystem::remove_all(dir); }
    [[nodiscard]] std::string path() const { return (dir / "home.db").string(); }
};

store::CommandRow command(const std::string& id, std::int64_t ts) {
    store::CommandRow c;
    c.id = id;
    c.ts = ts;
    c.device = "esp32-kitchen";
    c.actuator = "fan";
    c.action = "on";
    c.status = "sent";
    return c;
}
} // namespace

BOOST_AUTO_TEST_CASE(only_sent_commands_at_or_before_the_deadline_time_out) {
    TempDb db;
    store::Commands cmds(db.path());
    BOOST_TEST(!cmds.oldest_sent().has_value());
    cmds.insert_command(command("old", 1000));
    cmds.insert_command(command("edge", 2000));
    cmds.insert_command(command("young", 3000));
    cmds.insert_command(command("answered", 500));
    BOOST_REQUIRE(cmds.record_ack("answered", "done", 700));
    BOOST_TEST(cmds.oldest_sent().value_or(-1) == 1000); // "answered" (500) is no longer sent

    const auto expired = cmds.time_out(2000); // ts <= 2000
    BOOST_REQUIRE_EQUAL(expired.size(), 2U);
    for (const auto& row : expired) {
        BOOST_TEST((row.id == "old" || row.id == "edge"));
        BOOST_TEST(row.status == "timeout");
        BOOST_TEST(!row.ack_ts.has_value());
        BOOST_TEST(!row.latency_ms.has_value());
    }
    BOOST_TEST(cmds.command("young")->status == "sent");
    BOOST_TEST(cmds.command("answered")->status == "done");
    BOOST_TEST(cmds.oldest_sent().value_or(-1) == 3000);
    BOOST_TEST(cmds.time_out(2000).empty()); // each times out once
}

BOOST_AUTO_TEST_CASE(a_late_answer_replaces_timeout_and_the_first_answer_wins) {
    TempDb db;
    store::Commands cmds(db.path());
    cmds.insert_command(command("c1", 1000));
    BOOST_REQUIRE_EQUAL(cmds.time_out(1000).size(), 1U);
    const auto late = cmds.record_ack("c1", "failed", 4500);
    BOOST_REQUIRE(late);
    BOOST_TEST(late->status == "failed");
    BOOST_TEST(late->ack_ts.value_or(-1) == 4500);
    BOOST_TEST(late->latency_ms.value_or(-1) == 3500); // 4500 - 1000
    const auto second = cmds.record_ack("c1", "done", 5000);
    BOOST_REQUIRE(second);
    BOOST_TEST(second->status == "failed");
    BOOST_TEST(second->ack_ts.value_or(-1) == 4500);
    BOOST_TEST(cmds.time_out(10000).empty()); // an answered command never times out
    BOOST_TEST(!cmds.oldest_sent().has_value());
}
