#include "iotshield/cli/options.hpp"

#include "iotshield/core/duration.hpp"
#include "iotshield/core/error.hpp"
#include "iotshield/core/secret_file.hpp"
#include "iotshield/core/time.hpp"
#include "iotshield/record/sensor.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace iots::cli {

void add_broker_options(CLI::App& app, core::BrokerOptions& o, const std::string& without,
                        bool with_share) {
    app.add_option("-h,--host", o.host, "MQTT broker host (env IOTS_BROKER); " + without)
        ->envname("IOTS_BROKER");
    app.add_option("-p,--port", o.port, "MQTT broker port (default 1883; 8883 is TLS's)")
        ->check(whole_number(1, 65535));
    app.add_option("-q,--qos", o.qos, "MQTT quality of service 0, 1 or 2 (default 1)")
        ->check(whole_number(0, 2));
    app.add_option("-i,--id", o.client_id, "MQTT client id (needed for a persistent session)");
    app.add_flag(
        "-c,--disable-clean-session", [&o](std::int64_t) { o.clean_session = false; },
        "Persistent session: the broker keeps subscriptions and QoS>0 messages for -i");
    app.add_option("-u,--username", o.username, "MQTT user name (env IOTS_MQTT_USER)")
        ->envname("IOTS_MQTT_USER");
    app.add_option("--password-file", o.password_file,
                   "File whose first line is the MQTT password (else env IOTS_MQTT_PASSWORD)");
    app.add_option("--cafile", o.cafile, "CA certificate file: connect with TLS");
    app.add_option("--capath", o.capath, "Directory of CA certificates: connect with TLS");
    app.add_option("--cert", o.certfile, "Client certificate for TLS authentication");
    app.add_option("--key", o.keyfile, "Client private key for TLS authentication");
    app.add_flag("--insecure", o.insecure,
                 "Do not check the broker's host name in its certificate");
    app.add_option("-k,--keepalive", o.keepalive,
                   "MQTT keepalive in seconds, 5 to 65535 (default 30)")
        ->check(whole_number(5, 65535));
    app.add_option("--topic-prefix", o.topic_prefix, "Topic prefix (default iotshield)");
    if (with_share)
        app.add_option("--share", o.share_group,
                       "Shared subscription group: $share/GROUP/... (scale out behind a broker)");
}

void finish_broker_options(core::BrokerOptions& o) {
    const std::string& password_file = o.password_file;
    if (const char* pw = std::getenv("IOTS_MQTT_PASSWORD"); pw != nullptr)
        o.password = pw;
    if (!password_file.empty())
        o.password = read_first_line("--password-file", password_file);
    // host:port (from IOTS_BROKER), [v6-address]:port; a bare IPv6 address has several colons.
    const auto colon = o.host.rfind(':');
    const bool bracketed = !o.host.empty() && o.host.front() == '[';
    if (colon != std::string::npos &&
        (o.host.find(':') == colon || (bracketed && colon > 0 && o.host[colon - 1] == ']'))) {
        const std::string_view digits = std::string_view(o.host).substr(colon + 1);
        int port = 0;
        const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (digits.empty() || ec != std::errc{} || ptr != digits.data() + digits.size() ||
            port < 1 || port > 65535)
            throw Error(Exit::usage, "broker '" + o.host + "': bad port (1 to 65535)");
        o.port = port;
        o.host.resize(colon);
    }
    if (!o.host.empty() && o.host.front() == '[') {
        if (o.host.size() < 3 || o.host.back() != ']')
            throw Error(Exit::usage, "broker '" + o.host + "': unbalanced [ ]");
        o.host = o.host.substr(1, o.host.size() - 2);
    }
    if (!o.clean_session && o.client_id.empty())
        throw Error(Exit::usage, "-c (persistent session) needs a client id: give -i ID");
    if ((o.certfile.empty()) != (o.keyfile.empty()))
        throw Error(Exit::usage, "--cert and --key go together");
    if (!o.certfile.empty() && !o.tls())
        throw Error(Exit::usage, "--cert needs --cafile or --capath");
    if (o.topic_prefix.empty() || o.topic_prefix.find_first_of("+#") != std::string::npos)
        throw Error(Exit::usage, "--topic-prefix must be a plain topic without wildcards");
    if (!o.share_group.empty() && o.share_group.find_first_of("/+#") != std::string::npos)
        throw Error(Exit::usage, "--share GROUP must not contain '/', '+' or '#'");
}

void add_input_options(CLI::App& app, core::RejectPolicy& policy) {
    app.add_flag("--strict", policy.strict, "Exit with 65 at the first rejected record");
    app.add_option_function<std::uint64_t>(
           "--max-bad-lines", [&policy](const std::uint64_t& n) { policy.max_bad_lines = n; },
           "Exit with 65 when more than N records are rejected")
        ->check(whole_number<std::uint64_t>());
    app.add_option("--max-line-bytes", policy.max_line_bytes,
                   "Longest accepted input line or MQTT payload; longer ones are rejected "
                   "(default 1048576)")
        ->check(whole_number<std::size_t>(64, std::size_t{1} << 30));
}

CLI::Option* add_db_option(CLI::App& app, std::string& path, const std::string& help) {
    return app.add_option("--db", path, help + " (env IOTS_DB)")
        ->envname("IOTS_DB")
        ->check(sqlite_file("--db"));
}

CLI::Option* add_tz_option(CLI::App& app, std::string& name, const std::string& help) {
    return app.add_option("--tz", name, help);
}

core::Zone tz_zone(const std::string& name) {
    if (name.empty())
        return core::Zone::from_environment();
    try {
        return core::Zone::named(name);
    } catch (const Error& e) {
        throw Error(e.code(), std::string("--tz: ") + e.what());
    }
}

std::int64_t duration_ms(const std::string& option, const std::string& text) {
    const auto ms = core::parse_duration(text);
    if (!ms)
        throw Error(Exit::usage,
                    option + ": '" + text + "' is not a duration (like 500ms, 5s, 2h, 14d)");
    return *ms;
}

std::int64_t parse_time(const std::string& option, const std::string& text) {
    if (const auto t = core::parse_rfc3339(text))
        return *t;
    std::int64_t ms = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc{} || p != text.data() + text.size())
        throw Error(Exit::usage, option + ": '" + text + "' is neither RFC 3339 nor epoch ms");
    return ms;
}

std::int64_t size_bytes(const std::string& option, const std::string& text) {
    std::size_t digits = 0;
    while (digits < text.size() && digits < 15 && text[digits] >= '0' && text[digits] <= '9')
        ++digits;
    std::string suffix = text.substr(digits);
    if (!suffix.empty() && (suffix.back() == 'B' || suffix.back() == 'b'))
        suffix.pop_back();
    std::int64_t unit = 0;
    if (suffix.empty())
        unit = 1;
    else if (suffix == "k" || suffix == "K")
        unit = 1000;
    else if (suffix == "M")
        unit = 1000000;
    else if (suffix == "G")
        unit = 1000000000;
    else if (suffix == "T")
        unit = 1000000000000;
    if (digits == 0 || unit == 0)
        throw Error(Exit::usage,
                    option + ": '" + text + "' is not a size (like 800M, 2G or 500000000)");
    // At most 15 digits: the number fits; compared before multiplying, so the product does too.
    constexpr std::int64_t lo = 1000000, hi = 1000000000000000; // 1M to 1000T
    const std::int64_t n = std::stoll(text.substr(0, digits));
    if (n > hi / unit || n * unit < lo)
        throw Error(Exit::usage, option + ": '" + text + "' is not a size from 1M to 1000T");
    return n * unit;
}

namespace {
// CLI11's validators return the reason (it prefixes the option's name); "" is a pass.
std::string in_quotes(const std::string& text) {
    return "'" + text + "'";
}

// A number as people write it: decimal, a sign allowed ("+2" as a UTC offset), nothing after.
template <typename T> std::optional<T> decimal(std::string_view text) {
    if (text.size() > 1 && text[0] == '+' && text[1] != '-')
        text.remove_prefix(1);
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

template <typename T> std::optional<T> whole(const std::string& text) {
    return decimal<T>(text);
}

std::optional<double> finite(const std::string& text) {
    const auto value = decimal<double>(text);
    if (!value || !std::isfinite(*value))
        return std::nullopt;
    return value;
}

CLI::Validator check(std::function<std::string(std::string&)> fn) {
    return CLI::Validator(std::move(fn), "", "iots-number");
}

std::string errno_text(int e) {
    return std::strerror(e);
}

// An open file, closed when it goes.
class OpenFile {
public:
    OpenFile(const std::string& path, int flags)
        : m_fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | flags)) {}
    ~OpenFile() {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    [[nodiscard]] int fd() const noexcept { return m_fd; }

private:
    int m_fd;
};

std::string parent_directory(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}
} // namespace

namespace detail {
CLI::Validator signed_range(std::int64_t lo, std::int64_t hi, bool any_low, bool any_high) {
    std::string accepted = "a whole number";
    if (!any_low && !any_high)
        accepted += fmt::format(" from {} to {}", lo, hi);
    else if (!any_low)
        accepted += fmt::format(" of {} or more", lo);
    else if (!any_high)
        accepted += fmt::format(" of {} or less", hi);
    return check([=](std::string& text) -> std::string {
        const auto v = whole<std::int64_t>(text);
        if (!v || *v < lo || *v > hi)
            return in_quotes(text) + " is not " + accepted;
        return {};
    });
}

CLI::Validator unsigned_range(std::uint64_t lo, std::uint64_t hi, bool any_high) {
    const std::string accepted = any_high ? fmt::format("a whole number of {} or more", lo)
                                          : fmt::format("a whole number from {} to {}", lo, hi);
    return check([=](std::string& text) -> std::string {
        const auto v = whole<std::uint64_t>(text);
        if (!v || *v < lo || *v > hi)
            return in_quotes(text) + " is not " + accepted;
        return {};
    });
}
} // namespace detail

namespace {
CLI::Validator number_check(double lo, bool above_lo, double hi) {
    constexpr double kAny = std::numeric_limits<double>::max();
    std::string accepted = "a number";
    if (above_lo)
        accepted += fmt::format(" above {:g}", lo);
    else if (lo > -kAny && hi < kAny)
        accepted += fmt::format(" from {:g} to {:g}", lo, hi);
    else if (lo > -kAny)
        accepted += fmt::format(" of {:g} or more", lo);
    if (hi < kAny && (above_lo || lo <= -kAny))
        accepted += fmt::format("{} up to {:g}", above_lo ? "," : "", hi);
    return check([=](std::string& text) -> std::string {
        const auto v = finite(text);
        if (!v || *v < lo || (above_lo && *v <= lo) || *v > hi)
            return in_quotes(text) + " is not " + accepted;
        return {};
    });
}
} // namespace

namespace {
// Rewrites a value that `read` takes in plain decimal; leaves any other for the checks.
template <typename Read> CLI::Validator rewrite(Read read) {
    return CLI::Validator(
        [read](std::string& text) -> std::string {
            if (const auto v = read(text))
                text = fmt::format("{}", *v); // plain decimal; a double's shortest exact form
            return {};
        },
        "", "iots-decimal");
}
} // namespace

void check_number(CLI::Option& opt) {
    const std::string type = opt.get_type_name();
    if (type == "INT") {
        opt.transform(rewrite(whole<std::int64_t>));
        opt.check(whole_number<std::int64_t>());
    } else if (type == "UINT") {
        opt.transform(rewrite(whole<std::uint64_t>));
        opt.check(whole_number<std::uint64_t>());
    } else if (type == "FLOAT") {
        opt.transform(rewrite(finite));
        opt.check(number());
    }
}

namespace {
CLI::Validator duration_check(std::int64_t lo_ms, std::int64_t hi_ms, std::string accepted) {
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            const auto ms = core::parse_duration(text);
            if (!ms)
                return in_quotes(text) + " is not a duration (like 500ms, 5s, 2h, 14d)";
            if (*ms < lo_ms || *ms > hi_ms)
                return in_quotes(text) + " is not " + accepted;
            return {};
        },
        "", "iots-duration");
}
} // namespace

CLI::Validator positive_duration() {
    return duration_check(1, std::numeric_limits<std::int64_t>::max(), "a duration longer than 0");
}

CLI::Validator duration_between(std::int64_t lo_ms, std::int64_t hi_ms) {
    return duration_check(lo_ms, hi_ms,
                          fmt::format("a duration from {} to {}", core::format_duration(lo_ms),
                                      core::format_duration(hi_ms)));
}

CLI::Validator readable_file(const std::string& option) {
    return CLI::Validator(
        [option](std::string& path) -> std::string {
            // Opened, not read: a pipe (--api-key-file <(pass key)) keeps its contents for the
            // tool.
            const OpenFile file(path, O_NONBLOCK);
            struct stat st {};
            const int e = file.fd() < 0                                         ? errno
                          : ::fstat(file.fd(), &st) == 0 && S_ISDIR(st.st_mode) ? EISDIR
                                                                                : 0;
            if (e != 0)
                throw Error(Exit::no_input,
                            option + " " + path + ": cannot read: " + errno_text(e));
            return {};
        },
        "", "iots-readable");
}

CLI::Validator number(double lo, double hi) {
    return number_check(lo, false, hi);
}

CLI::Validator positive_number(double hi) {
    return number_check(0, true, hi);
}

CLI::Validator gas_level() {
    return positive_number(record::sensor_info("gas")->max);
}

CLI::Validator heat_level() {
    return number(30, record::sensor_info("temperature")->max);
}

CLI::Validator writable_file(const std::string& option) {
    return CLI::Validator(
        [option](std::string& path) -> std::string {
            struct stat st {};
            if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
                throw Error(Exit::usage, option + " " + path + ": is a directory");
            const std::string dir = parent_directory(path);
            if (::access(dir.c_str(), W_OK | X_OK) != 0) {
                const int e = errno;
                throw Error(
                    e == EACCES || e == EPERM || e == EROFS ? Exit::permission : Exit::usage,
                    option + " " + path + ": cannot write in " + dir + ": " + errno_text(e));
            }
            return {};
        },
        "", "iots-writable");
}

CLI::Validator sqlite_file(const std::string& option) {
    return CLI::Validator(
        [option](std::string& path) -> std::string {
            static constexpr std::string_view kMagic{"SQLite format 3\0", 16};
            const OpenFile file(path, O_NONBLOCK); // a FIFO does not block
            if (file.fd() < 0)
                return {}; // missing or unreadable: the database layer says which
            char head[16];
            const ssize_t n = ::read(file.fd(), head, sizeof head);
            if (n > 0 && std::string_view(head, static_cast<std::size_t>(n)) != kMagic)
                throw Error(Exit::no_input, option + " " + path + ": not an SQLite database");
            return {};
        },
        "", "iots-sqlite");
}

std::string read_first_line(const std::string& option, const std::string& path) {
    const auto failed = [&](int e) {
        return Error(Exit::no_input, option + " " + path + ": cannot read: " + errno_text(e));
    };
    const OpenFile file(path, 0);
    if (file.fd() < 0)
        throw failed(errno);
    // A secret others may read (or replace) is refused, as ssh refuses a key: a pipe or a
    // systemd credential passes, a file written under umask 022 does not.
    struct stat st {};
    if (::fstat(file.fd(), &st) != 0)
        throw failed(errno);
    if (core::open_to_others(st.st_mode, path))
        throw Error(Exit::permission,
                    fmt::format("{} {}: open to others (mode {:04o}): chmod 600 {}", option, path,
                                st.st_mode & 07777U, path));
    std::string text;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(file.fd(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw failed(errno);
        text.append(buf, static_cast<std::size_t>(n));
        if (n == 0 || text.find('\n') != std::string::npos || text.size() > 65536)
            break;
    }
    text.resize(std::min(text.find('\n'), text.size()));
    if (!text.empty() && text.back() == '\r') // a file written on Windows
        text.pop_back();
    return text;
}

void deprecated_alias(CLI::Option* old_option, const std::string& new_name) {
    old_option->group("")->description("deprecated: use " + new_name);
}

std::string deprecation_warning(const CLI::Option& option) {
    constexpr std::string_view kMark = "deprecated: ";
    const std::string& d = option.get_description();
    if (option.count() == 0 || d.rfind(kMark, 0) != 0 || option.get_lnames().empty())
        return {};
    // get_name() is empty for an option hidden from --help.
    return "--" + option.get_lnames().front() + " is " + d;
}

} // namespace iots::cli
