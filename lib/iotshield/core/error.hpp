#pragma once
// Typed errors and the exit codes of DESIGN §5. Library code throws iots::Error; the one catch site
// in cli::run_tool maps it to the process exit status.
#include <stdexcept>
#include <string>

namespace iots {

enum class Exit : int {
    ok = 0,
    failure = 1,
    usage = 2,
    bad_input = 65,
    no_input = 66,
    unavailable = 69,
    io_error = 74,
    permission = 77,
    config = 78,
};

class Error : public std::runtime_error {
public:
    Error(Exit code, const std::string& message) : std::runtime_error(message), m_code(code) {}
    [[nodiscard]] Exit code() const noexcept { return m_code; }

private:
    Exit m_code;
};

// The reader of stdout went away (EPIPE): not an error, the tool stops quietly with exit 0.
class OutputClosed : public std::exception {
public:
    [[nodiscard]] const char* what() const noexcept override { return "output closed"; }
};

// The reader of stdout stopped reading, and the tool was asked to give its output up (see
// LineWriter::give_up_when): what was not written is dropped. A kind of OutputClosed.
class OutputStalled : public OutputClosed {
public:
    [[nodiscard]] const char* what() const noexcept override { return "output stalled"; }
};

// Thrown to leave a tool early with a given status (e.g. after --help was printed).
class ExitRequest : public std::exception {
public:
    explicit ExitRequest(int status) : m_status(status) {}
    [[nodiscard]] int status() const noexcept { return m_status; }
    [[nodiscard]] const char* what() const noexcept override { return "exit requested"; }

private:
    int m_status;
};

} // namespace iots
