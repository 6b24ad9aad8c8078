#pragma once
// A real mosquitto for unit tests: started on a free 127.0.0.1 port in its own temporary directory,
// stopped (and the directory removed) by the destructor. Self-contained: POSIX and the standard
// library only, so any test may include it.
//
//   iots::test::TestBroker broker;                       // anonymous, plain TCP
//   iots::test::TestBroker secure({"allow_anonymous false", "password_file " + path});
//   broker.stop(); broker.start();                       // a restart on the same port
//   broker.pause(); broker.resume();                     // SIGSTOP/SIGCONT: a broker that stalls
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace iots::test {

// A TCP port on 127.0.0.1 that nothing listens on now (bound to port 0, then released).
inline int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        throw std::runtime_error("socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot bind a free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

// True if something accepts TCP connections on 127.0.0.1:port.
inline bool port_open(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// Runs a shell command; throws with the command on a non-zero exit.
inline void run_or_throw(const std::string& command) {
    int status = std::system(command.c_str());
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("command failed: " + command);
}

// A directory under $TMPDIR removed with everything in it at destruction.
class TempDir {
public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string templ = std::string(base != nullptr ? base : "/tmp") + "/iots-test.XXXXXX";
        if (::mkdtemp(templ.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        m_path = templ;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::string& path() const { return m_path; }
    [[nodiscard]] std::string file(const std::string& name) const { return m_path + "/" + name; }

private:
    std::string m_path;
};

class TestBroker {
public:
    // `config` lines are appended after "listener PORT 127.0.0.1", so listener options (certfile,
    // keyfile, cafile) apply to it; "@DIR@" in a line becomes the broker's directory.
    // allow_anonymous true and persistence false are the defaults unless a line sets them.
    explicit TestBroker(std::vector<std::string> config = {}, bool start_now = true)
        : m_port(free_port()), m_config(std::move(config)) {
        write_config();
        if (start_now)
            start();
    }
    ~TestBroker() { stop(); }
    TestBroker(const TestBroker&) = delete;
    TestBroker& operator=(const TestBroker&) = delete;

    [[nodiscard]] int port() const { return m_port; }
    [[nodiscard]] const TempDir& dir() const { return m_dir; }
    [[nodiscard]] bool running() const { return m_pid > 0; }

    // Starts mosquitto (again, on the same port) and waits until it accepts connections.
    void start() {
        if (m_pid > 0)
            return;
        std::string conf = m_dir.file("mosquitto.conf");
        std::string out = m_dir.file("mosquitto.out");
        pid_t pid = ::fork();
        if (pid < 0)
            throw std::runtime_error("fork failed");
        if (pid == 0) {
            int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
            }
            ::execlp("mosquitto", "mosquitto", "-c", conf.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        m_pid = pid;
        // A restart may find the old socket in TIME_WAIT; mosquitto sets SO_REUSEADDR, so wait.
        for (int i = 0; i < 400; ++i) {
            if (port_open(m_port))
                return;
            int status = 0;
            if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
                m_pid = -1;
                throw std::runtime_error("mosquitto exited at start: " + log());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        stop();
        throw std::runtime_error("mosquitto did not open port " + std::to_string(m_port));
    }

    // SIGTERM and wait: clients see the connection close.
    void stop() {
        if (m_pid <= 0)
            return;
        ::kill(m_pid, SIGCONT);
        ::kill(m_pid, SIGTERM);
        int status = 0;
        ::waitpid(m_pid, &status, 0);
        m_pid = -1;
    }

    // SIGSTOP/SIGCONT: the connection stays up but nothing is acknowledged meanwhile.
    void pause() {
        if (m_pid > 0)
            ::kill(m_pid, SIGSTOP);
    }
    void resume() {
        if (m_pid > 0)
            ::kill(m_pid, SIGCONT);
    }

    // The broker's own log (for failure messages).
    [[nodiscard]] std::string log() const {
        std::ifstream in(m_dir.file("mosquitto.log"));
        std::stringstream s;
        s << in.rdbuf();
        std::ifstream out(m_dir.file("mosquitto.out"));
        s << out.rdbuf();
        return s.str();
    }

private:
    void write_config() {
        std::ofstream conf(m_dir.file("mosquitto.conf"));
        conf << "per_listener_settings false\n";
        conf << "listener " << m_port << " 127.0.0.1\n";
        auto is_set = [&](const std::string& key) {
            for (const auto& line : m_config)
                if (line.rfind(key + " ", 0) == 0)
                    return true;
            return false;
        };
        for (auto line : m_config) {
            for (auto at = line.find("@DIR@"); at != std::string::npos; at = line.find("@DIR@"))
                line.replace(at, 5, m_dir.path());
            conf << line << "\n";
        }
        if (!is_set("allow_anonymous"))
            conf << "allow_anonymous true\n";
        if (!is_set("persistence"))
            conf << "persistence false\n";
        conf << "max_queued_messages 1000000\n";
        conf << "max_inflight_messages 100\n";
        conf << "log_dest file " << m_dir.file("mosquitto.log") << "\n";
        // As root, mosquitto would switch to the 'mosquitto' user, who cannot read our 0700 dir.
        if (::geteuid() == 0)
            conf << "user root\n";
    }

    TempDir m_dir;
    int m_port;
    std::vector<std::string> m_config;
    pid_t m_pid = -1;
};

} // namespace iots::test
