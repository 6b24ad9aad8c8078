// Loading a model file fast: the slicing-by-8 CRC-32 against the bit-by-bit definition, and
// load_model's two ways in (a mapped regular file, a pipe read in place) against decode_model.
#define BOOST_TEST_MODULE detect_model_load
#include "iotshield/core/error.hpp"
#include "iotshield/detect/model_file.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <thread>

using namespace iots::detect;

namespace {
// CRC-32/ISO-HDLC one bit at a time: reflected polynomial 0xEDB88320, initial and final XOR ~0.
std::uint32_t crc32_bitwise(std::string_view bytes) {
    std::uint32_t c = 0xFFFFFFFFU;
    for (const char ch : bytes) {
        c ^= static_cast<unsigned char>(ch);
        for (int k = 0; k < 8; ++k)
            c = (c & 1U) != 0 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFU;
}

Model small_model() {
    std::mt19937_64 rng(3);
    std::normal_distribution<double> g(0.0, 0.2);
    std::vector<History> hs;
    History h{"dev-1", "temperature", {}, {}};
    for (int i = 0; i < 600; ++i) {
        h.ts.push_back(1'700'000'000'000 + i * 5000LL);
        h.values.push_back(21.0 + g(rng));
    }
    hs.push_back(std::move(h));
    TrainOptions o;
    o.forest.trees = 5;
    return train(std::move(hs), o).model;
}

struct TempDir {
    TempDir() { BOOST_REQUIRE(mkdtemp(path) != nullptr); }
    ~TempDir() {
        std::remove((std::string(path) + "/m.iotsmodel").c_str());
        std::remove((std::string(path) + "/fifo").c_str());
        rmdir(path);
    }
    char path[32] = "/tmp/iots-model-load-XXXXXX";
};
} // namespace

BOOST_AUTO_TEST_CASE(crc32_matches_the_bitwise_definition_at_every_length_and_alignment) {
    std::mt19937 rng(9);
    std::string data(300, '\0');
    for (auto& c : data)
        c = static_cast<char>(rng());
    // Every length from 0 to 64 (the eight-byte steps and every tail) at all eight alignments,
    // and a few long ones.
    for (std::size_t offset = 0; offset < 8; ++offset)
        for (std::size_t n = 0; n <= 64; ++n) {
            const std::string_view s = std::string_view(data).substr(offset, n);
            BOOST_TEST(crc32(s) == crc32_bitwise(s), "offset " << offset << " length " << n);
        }
    BOOST_TEST(crc32(data) == crc32_bitwise(data));
    BOOST_TEST(crc32("123456789") == 0xCBF43926U); // the standard check value
}

BOOST_AUTO_TEST_CASE(a_mapped_file_loads_as_decoded_bytes) {
    TempDir dir;
    const std::string path = std::string(dir.path) + "/m.iotsmodel";
    const Model m = small_model();
    save_model(path, m);
    const std::string bytes = encode_model(m);
    BOOST_TEST(encode_model(load_model(path)) == bytes);
    BOOST_TEST(encode_model(decode_model(bytes, path)) == bytes);
}

// A FIFO is not mapped: it is read to its end, in blocks smaller than the model.
BOOST_AUTO_TEST_CASE(a_pipe_loads_as_the_same_model) {
    TempDir dir;
    const std::string fifo = std::string(dir.path) + "/fifo";
    BOOST_REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    const std::string bytes = encode_model(small_model());
    std::thread writer([&] {
        const int fd = ::open(fifo.c_str(), O_WRONLY);
        std::size_t done = 0;
        while (fd >= 0 && done < bytes.size()) {
            const ssize_t n =
                ::write(fd, bytes.data() + done, std::min<std::size_t>(bytes.size() - done, 4096));
            if (n <= 0)
                break;
            done += static_cast<std::size_t>(n);
        }
        if (fd >= 0)
            ::close(fd);
    });
    std::string loaded;
    try {
        loaded = encode_model(load_model(fifo));
    } catch (const iots::Error& e) {
        BOOST_TEST_MESSAGE(e.what());
    }
    writer.join();
    BOOST_TEST(loaded == bytes);
}

BOOST_AUTO_TEST_CASE(a_truncated_file_is_named_as_truncated) {
    TempDir dir;
    const std::string path = std::string(dir.path) + "/m.iotsmodel";
    save_model(path, small_model());
    BOOST_REQUIRE(::truncate(path.c_str(), 1000) == 0);
    try {
        (void)load_model(path);
        BOOST_FAIL("no error");
    } catch (const iots::Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == 66);
        BOOST_TEST(std::string(e.what()).find("truncated: 1000 of") != std::string::npos);
    }
}
