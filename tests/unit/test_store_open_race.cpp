// Several writers opening one new database file at once (two iots-ingest of a --share group
// started together, issue 10): each must find the schema made once, not run the migrations again
// after another writer ran them ("table devices already exists").
#define BOOST_TEST_MODULE store_open_race
#include "iotshield/store/database.hpp"
#include "iotshield/store/schema.hpp"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <exception>
#include <filesystem>
#include <latch>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

BOOST_AUTO_TEST_CASE(writers_opening_a_new_file_together_all_succeed) {
    const fs::path dir =
        fs::temp_directory_path() / fs::path("iots-open-race-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const int rounds = 20;
    const int writers = 4;
    int failed = 0;
    std::string first_error;
    for (int round = 0; round < rounds; ++round) {
        const std::string path = (dir / ("r" + std::to_string(round) + ".db")).string();
        std::latch start(writers);
        std::vector<std::string> errors(writers);
        std::vector<int> versions(writers, -1);
        std::vector<std::thread> threads;
        for (int w = 0; w < writers; ++w)
            threads.emplace_back([&, w] {
                start.arrive_and_wait();
                try {
                    iots::store::Database db(path);
                    versions[static_cast<std::size_t>(w)] = db.schema_version();
                } catch (const std::exception& e) {
                    errors[static_cast<std::size_t>(w)] = e.what();
                }
            });
        for (auto& t : threads)
            t.join();
        for (int w = 0; w < writers; ++w) {
            const auto i = static_cast<std::size_t>(w);
            if (!errors[i].empty() || versions[i] != iots::store::latest_schema_version()) {
                ++failed;
                if (first_error.empty())
                    first_error = errors[i];
            }
        }
    }
    fs::remove_all(dir);
    BOOST_TEST(failed == 0,
               failed << " of " << rounds * writers << " opens failed, e.g. " << first_error);
}
