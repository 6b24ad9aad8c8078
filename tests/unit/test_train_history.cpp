// iots-train's history: the same readings give the same series from --db and from stdin (grouped
// per device and sensor in that order, incident readings left out and counted, --since/--until/
// --device/--sensor applied), invalid stdin lines are rejected by the reject policy of input/
// (counted and skipped, or exit 65 under --strict and past --max-bad-lines), and --since/--until
// take RFC 3339 or epoch milliseconds.
#define BOOST_TEST_MODULE train_history
#include "iotshield/core/error.hpp"
#include "iotshield/core/log.hpp"
#include "iotshield/store/database.hpp"
#include "iotshield/store/reading_writer.hpp"
#include "iotshield/train/history.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using iots::core::Millis;
using iots::record::Reading;
using iots::store::HistoryFilter;
using iots::train::History;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "iots-train-XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    [[nodiscard]] std::string file(const char* name) const { return (path / name).string(); }
};

// fd 0 reads `path` while it lives.
class StdinFrom {
public:
    explicit StdinFrom(const std::string& path) : m_saved(::dup(0)) {
        const int fd = ::open(path.c_str(), O_RDONLY);
        BOOST_REQUIRE(fd >= 0);
        BOOST_REQUIRE(::dup2(fd, 0) == 0);
        ::close(fd);
    }
    ~StdinFrom() {
        ::dup2(m_saved, 0);
        ::close(m_saved);
    }
    StdinFrom(const StdinFrom&) = delete;
    StdinFrom& operator=(const StdinFrom&) = delete;

private:
    int m_saved;
};

constexpr Millis kT0 = 1759708800000; // 2025-10-06T00:00:00Z

struct Row {
    const char* device;
    const char* sensor;
    Millis offset;
    double value;
    const char* label; // "": none
};

// Out of series order on purpose: the history groups them.
const std::vector<Row> kRows = {
    {"b", "temperature", 0, 20.5, "normal"},    {"a", "temperature", 0, 19.0, ""},
    {"a", "humidity", 0, 40.0, "normal"},       {"b", "temperature", 1000, 21.0, "fire"},
    {"a", "temperature", 1000, 19.5, "normal"}, {"b", "temperature", 2000, 21.5, "normal"},
    {"a", "temperature", 2000, 20.0, "normal"}, {"a", "humidity", 2000, 41.0, "gas-leak"},
    {"c", "temperature", 3000, 25.0, "normal"},
};

Reading reading(const Row& row, std::int64_t seq) {
    Reading r;
    r.device = row.device;
    r.sensor = row.sensor;
    r.ts = kT0 + row.offset;
    r.value = row.value;
    r.seq = seq;
    r.label = row.label;
    return r;
}

std::string line(const Row& row, std::int64_t seq) {
    std::string s = "{\"ts\":" + std::to_string(kT0 + row.offset) + ",\"device\":\"" + row.device +
                    "\",\"sensor\":\"" + row.sensor + "\",\"value\":" + std::to_string(row.value) +
                    ",\"seq\":" + std::to_string(seq);
    if (*row.label != '\0')
        s += std::string(",\"label\":\"") + row.label + "\"";
    return s + "}";
}

std::string make_db(const TempDir& dir) {
    const std::string path = dir.file("h.db");
    iots::store::Database db(path);
    iots::store::ReadingWriter writer(db);
    std::int64_t seq = 0;
    for (const auto& row : kRows)
        writer.add(reading(row, seq++), 0);
    writer.commit();
    return path;
}

std::string make_ndjson(const TempDir& dir, const std::vector<std::string>& extra) {
    const std::string path = dir.file("h.ndjson");
    std::ofstream out(path);
    std::int64_t seq = 0;
    for (const auto& row : kRows)
        out << line(row, seq++) << '\n';
    for (const auto& l : extra)
        out << l << '\n';
    return path;
}

// "a/temperature 0,1000,2000" per series, in order.
std::vector<std::string> describe(const History& h) {
    std::vector<std::string> out;
    for (const auto& s : h.series) {
        std::string d = s.device + "/" + s.sensor;
        for (std::size_t i = 0; i < s.ts.size(); ++i)
            d += (i == 0 ? " " : ",") + std::to_string(s.ts[i] - kT0) + "=" +
                 std::to_string(s.values[i]);
        out.push_back(d);
    }
    return out;
}

const iots::core::Logger& quiet() {
    static const iots::core::Logger log("test", iots::core::Level::error);
    return log;
}

History from_stdin(const std::string& path, const HistoryFilter& filter) {
    const StdinFrom in(path);
    return iots::train::read_history("", filter, {}, quiet());
}

} // namespace

BOOST_AUTO_TEST_CASE(database_and_stdin_give_the_same_series_without_incidents) {
    TempDir dir;
    const History db = iots::train::read_history(make_db(dir), {}, {}, quiet());
    const History in = from_stdin(make_ndjson(dir, {}), {});
    const std::vector<std::string> want = {
        "a/humidity 0=40.000000",
        "a/temperature 0=19.000000,1000=19.500000,2000=20.000000",
        "b/temperature 0=20.500000,2000=21.500000",
        "c/temperature 3000=25.000000",
    };
    BOOST_TEST(describe(db) == want, boost::test_tools::per_element());
    BOOST_TEST(describe(in) == want, boost::test_tools::per_element());
    BOOST_TEST(db.rows == 7U);
    BOOST_TEST(in.rows == 7U);
    BOOST_TEST(db.left_out == 2U);
    BOOST_TEST(in.left_out == 2U);
    BOOST_TEST(db.rejected == 0U);
    BOOST_TEST(in.rejected == 0U);
}

BOOST_AUTO_TEST_CASE(the_filter_applies_to_both_sources) {
    TempDir dir;
    HistoryFilter filter;
    filter.since = kT0 + 1000;
    filter.until = kT0 + 3000; // before: c's only reading is out
    filter.devices = {"a", "c"};
    filter.sensors = {"temperature"};
    const History db = iots::train::read_history(make_db(dir), filter, {}, quiet());
    const History in = from_stdin(make_ndjson(dir, {}), filter);
    const std::vector<std::string> want = {"a/temperature 1000=19.500000,2000=20.000000"};
    BOOST_TEST(describe(db) == want, boost::test_tools::per_element());
    BOOST_TEST(describe(in) == want, boost::test_tools::per_element());
    BOOST_TEST(in.rows == 2U);
}

BOOST_AUTO_TEST_CASE(invalid_stdin_lines_are_counted_and_skipped) {
    TempDir dir;
    const History in = from_stdin(make_ndjson(dir, {"not json", "{\"ts\":1,\"device\":\"a\"}", "",
                                                    std::string(1 << 20, 'x')}),
                                  {});
    BOOST_TEST(in.rows == 7U);
    BOOST_TEST(in.series.size() == 4U);
    BOOST_TEST(in.rejected == 3U); // the over-long one too; the blank line is no record
}

BOOST_AUTO_TEST_CASE(stdin_lines_follow_the_reject_policy) {
    TempDir dir;
    const std::string path = make_ndjson(dir, {"not json", std::string(300, 'x')});
    iots::core::RejectPolicy policy;
    policy.max_line_bytes = 200;
    policy.max_bad_lines = 1;
    try {
        const StdinFrom in(path);
        (void)iots::train::read_history("", {}, policy, quiet());
        BOOST_FAIL("two rejected lines past --max-bad-lines 1 did not end the reading");
    } catch (const iots::Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(iots::Exit::bad_input));
        BOOST_TEST(std::string(e.what()) == "more than 1 bad records (--max-bad-lines)");
    }
    policy = {};
    policy.strict = true;
    try {
        const StdinFrom in(path);
        (void)iots::train::read_history("", {}, policy, quiet());
        BOOST_FAIL("--strict did not end the reading");
    } catch (const iots::Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(iots::Exit::bad_input));
        BOOST_TEST(std::string(e.what()) == "line 10: not a JSON object");
    }
}
