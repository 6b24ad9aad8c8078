// The alerts table: insert, replay, a language-model update beside the rules text, resolution.
#define BOOST_TEST_MODULE alert_store
#include "iotshield/store/alerts.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

using namespace iots;

namespace {
struct TempDb {
    std::filesystem::path path;
    TempDb() {
        path = std::filesystem::temp_directory_path() /
               ("iots-alert-store-" + std::to_string(getpid()) + ".db");
        std::filesystem::remove(path);
    }
    ~TempDb() {
        for (const char* ext : {"", "-wal", "-shm"})
            std::filesystem::remove(path.string() + ext);
    }
};

store::AlertRow row(const std::string& id, const std::string& incident, core::Millis ts) {
    store::AlertRow r;
    r.id = id;
    r.ts = ts;
    r.device = "dev";
    r.sensor = "gas";
    r.severity = "HIGH";
    r.title = r.rules_title = "Gas level rising";
    r.description = r.rules_description = "Gas reads 420 ppm.";
    r.suggestion = r.rules_suggestion = "Air the room.";
    r.value = 420;
    r.score = 0.8;
    r.incident = incident;
    r.json = "{}";
    return r;
}
} // namespace

BOOST_AUTO_TEST_CASE(insert_update_resolve) {
    TempDb tmp;
    store::Database db(tmp.path.string());
    store::AlertStore alerts(db);
    alerts.insert(row("i.1", "i", 1000));
    alerts.insert(row("i.2", "i", 2000));
    alerts.insert(row("i.1", "i", 1000)); // a replay: same row, not a second one
    BOOST_TEST(alerts.recent(10).size() == 2u);

    store::AlertRow upd = row("i.1", "i", 1000);
    upd.title = "Gas in the kitchen";
    upd.description = "Model text.";
    upd.suggestion = "Open a window.";
    upd.severity = "CRITICAL";
    upd.source = "gemini";
    upd.updated_ts = 5000;
    BOOST_TEST(alerts.update_text(upd));
    BOOST_TEST(!alerts.update_text(row("nope", "i", 1)));
    const auto got = alerts.get("i.1");
    BOOST_REQUIRE(got);
    BOOST_TEST(got->title == "Gas in the kitchen");
    BOOST_TEST(got->rules_title == "Gas level rising"); // the rules text stays beside it
    BOOST_TEST(got->source == "gemini");
    BOOST_TEST(got->severity == "CRITICAL");
    BOOST_TEST(got->updated_ts.value_or(0) == 5000);
    BOOST_TEST(got->value.value_or(0) == 420.0);

    db.exec("UPDATE alerts SET status = 'acknowledged' WHERE id = 'i.2'");
    BOOST_TEST(alerts.resolve_incident("i", 9000) == 1); // i.1 only: i.2 was acknowledged
    BOOST_TEST(alerts.get("i.1")->status == "resolved");
    BOOST_TEST(alerts.get("i.2")->status == "acknowledged");
    alerts.insert(row("j.1", "j", 3000));
    BOOST_TEST(alerts.resolve("j.1", 9500));
    BOOST_TEST(!alerts.resolve("j.1", 9600)); // already resolved
    BOOST_TEST(alerts.get("j.1")->updated_ts.value_or(0) == 9500);
    alerts.insert(row("i.2", "i", 2000)); // a replay keeps the acknowledgement
    BOOST_TEST(alerts.get("i.2")->status == "acknowledged");
}
