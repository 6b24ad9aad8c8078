// The node's seq across reboots: always increasing, with one flash write per block of readings
// and one per boot, not one per reading.
#define BOOST_TEST_MODULE firmware_sequence
#include "firmware_fakes.hpp"
#include "iotsfw/node.hpp"
#include "iotsfw/sequence.hpp"

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace iots::fw;

BOOST_AUTO_TEST_CASE(seq_increases_across_reboots) {
    fwtest::FakeStore flash;
    std::vector<std::uint64_t> seen;
    // Three boots, using 5, 2500 and 0 numbers: each boot starts past everything the last could
    // have used (its reserved block), never at a number already sent.
    for (const int used : {5, 2500, 0, 3}) {
        Sequence seq(flash, 1000);
        BOOST_TEST(seq.begin());
        for (int i = 0; i < used; ++i)
            seen.push_back(seq.next());
    }
    for (std::size_t i = 1; i < seen.size(); ++i)
        BOOST_TEST_REQUIRE(seen[i] > seen[i - 1]);
    // Boot 1: 0..4 (mark 1000). Boot 2: 1000..3499 (marks 2000, 3000, 4000). Boot 3: none (mark
    // 5000). Boot 4: 5000..5002.
    BOOST_TEST(seen.front() == 0u);
    BOOST_TEST(seen[5] == 1000u);
    BOOST_TEST(seen[5 + 2499] == 3499u);
    BOOST_TEST(seen.back() == 5002u);
    BOOST_TEST(flash.u64.at(kBootsKey) == 4u);
}

// 10,000 readings in one boot: 10 block reservations + the boot's own 2 writes (mark and boot
// counter), against 10,000 if every number were stored.
BOOST_AUTO_TEST_CASE(flash_is_written_once_per_block) {
    fwtest::FakeStore flash;
    Sequence seq(flash, 1000);
    seq.begin();
    for (int i = 0; i < 10000; ++i)
        seq.next();
    BOOST_TEST(flash.writes == 2 + 9); // begin reserved 0..999; 9 more blocks for 1000..9999
    BOOST_TEST(seq.flash_writes() == 11u);
    BOOST_TEST(flash.u64.at(kSeqKey) == 10000u);
}

// A flash that refuses writes: this boot still counts up (the reboot after may repeat numbers,
// and the node says so in its log).
BOOST_AUTO_TEST_CASE(a_failed_write_is_reported_and_counting_goes_on) {
    fwtest::FakeStore flash;
    flash.fail = true;
    Sequence seq(flash, 10);
    BOOST_TEST(!seq.begin());
    std::uint64_t last = seq.next();
    for (int i = 0; i < 25; ++i) {
        const std::uint64_t n = seq.next();
        BOOST_TEST_REQUIRE(n == last + 1);
        last = n;
    }
}

// The node's readings carry the numbers, and a rebooted node continues past them.
BOOST_AUTO_TEST_CASE(a_rebooted_node_publishes_higher_seq) {
    fwtest::FakeBoard board;
    fwtest::FakeStore flash;
    fwtest::FakeTransport transport;
    NodeConfig config;
    config.mq2_warmup_ms = 0;
    std::uint64_t first_boot_max = 0;
    const auto seqs = [&] {
        std::vector<std::uint64_t> out;
        for (const auto& p : transport.sent)
            if (const auto at = p.payload.find("\"seq\":"); at != std::string::npos)
                out.push_back(std::stoull(p.payload.substr(at + 6)));
        transport.sent.clear();
        return out;
    };
    {
        Node node(config, board, flash, transport);
        node.begin();
        node.loop();
        const auto first = seqs();
        BOOST_TEST(first.size() == 6u); // temperature, humidity, gas, flame, motion, light
        first_boot_max = first.back();
    }
    Node rebooted(config, board, flash, transport);
    rebooted.begin();
    rebooted.loop();
    const auto second = seqs();
    BOOST_REQUIRE(!second.empty());
    BOOST_TEST(second.front() > first_boot_max);
    BOOST_TEST(rebooted.sequence().boots() == 2u);
}
