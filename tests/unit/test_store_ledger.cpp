// The privacy ledger (schema v3) and the export's window sums: the ledger's arithmetic per
// destination and day, an older database migrated to it, and the clamped sums per window.
#define BOOST_TEST_MODULE store_ledger
#include "iotshield/store/ledger.hpp"
#include "iotshield/store/reading_writer.hpp"
#include "iotshield/store/schema.hpp"
#include "iotshield/store/windows.hpp"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>

using namespace iots;

namespace {
struct TempDb {
    std::filesystem::path dir;
    TempDb() {
        dir = std::filesystem::temp_directory_path() /
              ("iots-store-ledger-" + std::to_string(getpid()));
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
    }
    ~TempDb() { std::filesystem::remove_all(dir); }
    [[nodiscard]] std::string path() const { return (dir / "home.db").string(); }
};
} // namespace

BOOST_AUTO_TEST_CASE(ledger_sums_per_destination_and_day) {
    TempDb t;
    store::Database db(t.path());
    BOOST_TEST(db.schema_version() == store::latest_schema_version());
    store::Ledger ledger(db);
    BOOST_TEST(ledger.spent("cloud", "2025-10-25").epsilon == 0.0);
    {
        store::Transaction tx(db);
        // Two releases about the 25th to "cloud": 0.4 + 0.5 = 0.9; one to "adviser"; one about
        // the 26th.
        ledger.add({"cloud", "2025-10-25", 1000, "r1", 24, 0.4, 0});
        ledger.add({"cloud", "2025-10-25", 2000, "r2", 30, 0.5, 1e-6});
        ledger.add({"adviser", "2025-10-25", 2000, "r2", 10, 2.0, 0});
        ledger.add({"cloud", "2025-10-26", 3000, "r3", 24, 0.1, 0});
        tx.commit();
    }
    const store::DaySpent d = ledger.spent("cloud", "2025-10-25");
    BOOST_TEST(d.releases == 2);
    BOOST_TEST(d.aggregates == 54);
    BOOST_TEST(std::fabs(d.epsilon - 0.9) < 1e-12);
    BOOST_TEST(d.delta == 1e-6);
    const auto all = ledger.report(std::nullopt);
    BOOST_REQUIRE(all.size() == 3u);
    BOOST_TEST(all[0].destination == "adviser");
    BOOST_TEST(all[1].day == "2025-10-25");
    BOOST_TEST(all[2].day == "2025-10-26");
    BOOST_TEST(ledger.report(std::string("cloud")).size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_rolled_back_release_spends_nothing) {
    TempDb t;
    store::Database db(t.path());
    store::Ledger ledger(db);
    {
        store::Transaction tx(db);
        ledger.add({"cloud", "2025-10-25", 1000, "r1", 24, 0.4, 0});
    } // no commit: refused or failed before the commit
    BOOST_TEST(ledger.spent("cloud", "2025-10-25").releases == 0);
}

BOOST_AUTO_TEST_CASE(a_version_2_database_gets_the_ledger) {
    TempDb t;
    {
        store::Database db(t.path());
        db.exec("DROP TABLE privacy_ledger; DROP TABLE rollup_minute; DROP TABLE rollup_hour; "
                "DROP TABLE reading_chunks; PRAGMA user_version = 2;");
    }
    store::Database db(t.path());
    BOOST_TEST(db.schema_version() == store::latest_schema_version());
    store::Ledger ledger(db);
    BOOST_TEST(ledger.spent("x", "2025-01-01").releases == 0);
}

BOOST_AUTO_TEST_CASE(utc_day_of_an_instant) {
    BOOST_TEST(store::utc_day(0) == "1970-01-01");
    BOOST_TEST(store::utc_day(1761436799999) == "2025-10-25"); // 23:59:59.999Z
    BOOST_TEST(store::utc_day(1761436800000) == "2025-10-26");
}

BOOST_AUTO_TEST_CASE(window_sums_clamp_and_group) {
    TempDb t;
    store::Database db(t.path());
    {
        store::ReadingWriter w(db);
        const core::Millis h = 3600000, base = 1761350400000; // 2025-10-25T00:00Z
        auto add = [&](core::Millis ts, double v) {
            record::Reading r;
            r.ts = ts;
            r.device = "esp32-a";
            r.sensor = "temperature";
            r.value = v;
            (void)w.add(r, 0);
        };
        add(base + 10, 20); // window 0: 20, 50 -> clamped to 35: sum 55
        add(base + 20, 50);
        add(base + 2 * h, 0);  // window 2: 0 -> clamped to 10
        add(base + 3 * h, 99); // outside [since, until)
        w.commit();
        const auto series = store::all_series(db);
        BOOST_REQUIRE(series.size() == 1u);
        const auto s = store::window_sums(db, series[0], base, base + 3 * h, h, 10, 35);
        BOOST_REQUIRE(s.size() == 2u);
        BOOST_TEST(s[0].start == base);
        BOOST_TEST(s[0].count == 2);
        BOOST_TEST(s[0].clamped_sum == 55.0);
        BOOST_TEST(s[0].min == 20.0);
        BOOST_TEST(s[0].max == 50.0);
        BOOST_TEST(s[0].nonzero == 2);
        BOOST_TEST(s[1].start == base + 2 * h);
        BOOST_TEST(s[1].clamped_sum == 10.0);
        BOOST_TEST(s[1].nonzero == 0);
    }
}
