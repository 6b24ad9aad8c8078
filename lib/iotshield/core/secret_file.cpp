#include "iotshield/core/secret_file.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sys/stat.h>

namespace iots::core {

namespace {
bool under_credentials_directory(const std::string& path) {
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    if (dir == nullptr || *dir == '\0')
        return false;
    std::error_code ec;
    const auto base = std::filesystem::canonical(dir, ec);
    if (ec)
        return false;
    const auto file = std::filesystem::canonical(path, ec);
    if (ec)
        return false;
    return std::mismatch(base.begin(), base.end(), file.begin(), file.end()).first == base.end();
}
} // namespace

bool open_to_others(mode_t mode, const std::string& path) {
    if (!S_ISREG(mode))
        return false; // a pipe or a terminal: nobody else can read what it held
    if ((mode & (S_IRWXG | S_IRWXO)) == 0)
        return false;
    if ((mode & (S_IWGRP | S_IXGRP | S_IRWXO)) == 0 && under_credentials_directory(path))
        return false;
    return true;
}

} // namespace iots::core
