# Shared helpers for the end-to-end tests. Source it: `. "$(dirname "$0")/lib.sh"`.
# Environment from CTest: IOTS_BIN (built tools), IOTS_SRC (source tree), IOTS_TEST_DATA.
set -euo pipefail

: "${IOTS_BIN:?run through ctest (IOTS_BIN not set)}"
: "${IOTS_SRC:?run through ctest (IOTS_SRC not set)}"
export PATH="$IOTS_BIN:$PATH"
unset TZ # the tools default to the zone in $TZ: a test that wants one says so

TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/iots-e2e-$TEST_NAME.XXXXXX")
BROKER_PID=""
BG_PIDS=()
CLEANUP_CMDS=() # run first on exit, for what BG_PIDS cannot reach (a test's own process groups)

cleanup() {
    local rc=$?
    local cmd
    for cmd in "${CLEANUP_CMDS[@]}"; do eval "$cmd" || true; done
    for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    if [ "$rc" -ne 0 ]; then
        echo "--- $TEST_NAME failed (rc=$rc); files in $WORK:" >&2
        ls -la "$WORK" >&2 || true
        for f in "$WORK"/*.err "$WORK"/*.log; do
            [ -f "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
        done
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT

fail() { echo "FAIL: $TEST_NAME: $*" >&2; exit 1; }
pass() { echo "ok: $TEST_NAME: $*"; }

assert_eq() { # expected actual what
    [ "$1" == "$2" ] || fail "$3: expected '$1', got '$2'"
}

# A TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until something accepts TCP connections on 127.0.0.1:$1 (up to ~10 s).
wait_port() {
    local i
    for i in $(seq 1 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    fail "nothing listens on port $1"
}

# Starts a real mosquitto on a free loopback port with the project's recommended queue settings.
# Sets BROKER_PORT. Extra config lines may be passed as arguments.
start_broker() {
    BROKER_PORT=$(free_port)
    local conf="$WORK/mosquitto.conf"
    {
        echo "per_listener_settings false"
        echo "listener $BROKER_PORT 127.0.0.1"
        echo "allow_anonymous true"
        echo "max_queued_messages 1000000"
        echo "max_inflight_messages 100"
        echo "set_tcp_nodelay true"
        echo "persistence false"
        echo "log_dest file $WORK/mosquitto.log"
        # As root, mosquitto switches to user 'mosquitto', who cannot write into the 0700 $WORK.
        [ "$(id -u)" != 0 ] || echo "user root"
        for line in "$@"; do echo "$line"; done
    } > "$conf"
    mosquitto -c "$conf" > "$WORK/mosquitto.out" 2>&1 &
    BROKER_PID=$!
    wait_port "$BROKER_PORT"
}

stop_broker() {
    [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null || true
    BROKER_PID=""
}

# Runs a command in the background, remembered for cleanup. Sets LAST_PID.
background() {
    "$@" &
    LAST_PID=$!
    BG_PIDS+=("$LAST_PID")
}

# Waits until `cmd` succeeds, up to $1 seconds.
wait_until() {
    local limit=$1; shift
    local deadline=$((SECONDS + limit))
    until "$@"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.1
    done
}

# Number of rows in a table of a database file.
db_count() { sqlite3 "$1" "SELECT count(*) FROM $2${3:+ WHERE $3}"; }
