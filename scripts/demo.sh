#!/usr/bin/env bash
# The main job on one machine: installs what is missing, builds the seven tools (in build-demo/, apart
# from the test suite's build/), simulates two days of history of a household (three rooms), trains
# the model on it, then runs the whole pipeline live over a private mosquitto that it starts on a
# free loopback port and stops again:
#   iots-sim (nodes that answer commands) --MQTT--> iots-ingest --> SQLite <-- iots-serve (dashboard)
#                                             \---> iots-detect --MQTT--> iots-alert --> SQLite, stdout
#   iots-serve --MQTT--> commands to the nodes, their answers back
#   iots-alert --MQTT--> iots-act (examples/act/home.rules) --MQTT--> commands to the nodes
# The live household is the one of the history, continued where the database ends (iots-sim --from),
# with a fire and a gas leak a few minutes in. The dashboard asks for the token the script prints.
# Ctrl-C stops everything, mosquitto last; a second run continues the same household.
# Usage: scripts/demo.sh [--build-only | --help]
#   --build-only       build the demo's tools in build-demo/ and stop (scripts/test.sh checks that
#                      this build, a unity build unlike the test suite's, compiles)
# Environment:
#   IOTS_DEMO_DIR      where the data stays (default ./demo); a second run there continues it
#   IOTS_DEMO_PORT     the dashboard's port on 127.0.0.1 (default 8080)
#   IOTS_DEMO_SECONDS  test mode: run live this long, then stop everything and exit 0 (default:
#                      until Ctrl-C); tests/e2e/demo.sh runs IOTS_DEMO_SECONDS=30
#   IOTS_DEMO_BIN      run the tools built there (like build/tools); nothing is installed or built
set -euo pipefail
build_only=""
case "${1:-}" in
"") ;;
--build-only) build_only=1 ;;
-h | --help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
*) echo "demo: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
if [ -n "${IOTS_DEMO_BIN:-}" ]; then
    bin=$(cd "$IOTS_DEMO_BIN" && pwd)
else
    scripts/deps.sh run
    # The demo's own build, apart from the test suite's build/: the seven tools and the libraries
    # they link, nothing else, -O1 without debug information, each library compiled as a few
    # unity translation units, a library's sources without waiting for the libraries it links
    # (OPTIMIZE_DEPENDENCIES), all as one target (iots-demo-tools: make would build several
    # --target goals one after another). Later runs compile only what changed.
    cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
        -DCMAKE_UNITY_BUILD=ON -DCMAKE_OPTIMIZE_DEPENDENCIES=ON -DIOTS_BUILD_TESTS=OFF \
        -DIOTS_BUILD_BENCH=OFF >/dev/null
    cmake --build build-demo -j "$(nproc)" --target iots-demo-tools >&2
    bin=$PWD/build-demo/tools
fi
[ -z "$build_only" ] || exit 0

dir=${IOTS_DEMO_DIR:-$PWD/demo}
port=${IOTS_DEMO_PORT:-8080}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
db=$dir/home.db
model=$dir/home.model
state=$dir/detect.state # what iots-detect learnt from the stream: the live detector goes on from it
household=$dir/household # start, seed and incidents of the simulated household: what makes it the same
rfc3339() { date -u -d "@$(($1 / 1000)).$(printf %03d $(($1 % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ; }
now_ms() { echo $(($(date -u +%s%N) / 1000000)); }

# The household file is written once history and model are complete: without it the directory holds
# an interrupted first run or one of an older demo, which is moved aside.
if [ ! -f "$household" ]; then
    if [ -e "$db" ] || [ -e "$model" ] || [ -e "$state" ]; then
        mkdir -p "$dir/previous"
        mv -f "$db" "$db-wal" "$db-shm" "$model" "$state" "$dir/previous/" 2>/dev/null || true
        echo "demo: an incomplete or older demo moved to $dir/previous" >&2
    fi
    now_s=$(date -u +%s)
    start=$(date -u -d "@$((now_s - 2 * 86400))" +%Y-%m-%dT%H:%M:%SZ)
    seed=$now_s
    incidents=()
    echo "demo: simulating two days of history into $db" >&2
    "$bin/iots-sim" --devices 3 --start "$start" --duration 2d --seed "$seed" |
        "$bin/iots-ingest" --db "$db" --quiet
    echo "demo: training $model" >&2
    "$bin/iots-train" --db "$db" --model "$model" --quiet-log
    # The detector reads the history too (the same readings again: the household is its seed), so
    # that live it knows each series' latest level and spread, as it would had it run all along.
    echo "demo: the detector learns the history" >&2
    "$bin/iots-sim" --devices 3 --start "$start" --duration 2d --seed "$seed" |
        "$bin/iots-detect" --model "$model" --state "$state" --quiet-log > /dev/null
else
    # shellcheck source=/dev/null
    . "$household"
fi

# The live part goes on from the newest stored reading; after a pause of more than an hour the
# household lived on unrecorded and the readings resume now.
last=$(sqlite3 "$db" "SELECT coalesce(max(last_ts), 0) FROM series")
from=$((last + 1))
[ "$from" -ge $(($(now_ms) - 3600000)) ] || from=$(now_ms)
# A fire in the kitchen 3 minutes after going live, a gas leak in the living room at 8 (minutes
# after the simulated start, which is what --incident counts from).
start_ms=$(($(date -u -d "$start" +%s) * 1000))
live_min=$((($(now_ms) - start_ms) / 60000))
# (Kept in the household file, so a later run simulates them too; a run that starts while they are
# still to come or under way shows those.)
last_at=gas-leak@0m
[ ${#incidents[@]} -eq 0 ] || last_at=${incidents[-1]}
last_at=${last_at#*@}
[ $((${last_at%%m*} + 5)) -gt "$live_min" ] ||
    incidents+=("fire@$((live_min + 3))m:4m/esp32-kitchen" "gas-leak@$((live_min + 8))m:5m/esp32-livingroom")
{
    echo "start=$start"
    echo "seed=$seed"
    echo "incidents=(${incidents[*]})"
} > "$household.tmp"
mv "$household.tmp" "$household"

# A control token for the dashboard, made once, readable by its owner only.
tokens=$dir/tokens
if [ ! -s "$tokens" ]; then
    (umask 077 && echo "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n') control" > "$tokens")
fi
token=$(cut -d' ' -f1 "$tokens")

pids=()
declare -A names # pid -> tool, for the message when one ends on its own
run() { # tool args...: in the background, remembered
    "$bin/$1" "${@:2}" &
    pids+=("$!")
    names[$!]=$1
}
broker_pid=""
stop() {
    trap - INT TERM EXIT
    # Every tool finishes its record, commits and exits 0 on SIGTERM: the nodes first (they say
    # offline), the broker last, so every tool disconnects from a broker that still answers.
    [ ${#pids[@]} -eq 0 ] || kill -TERM "${pids[@]}" 2>/dev/null || true
    # They stop together, and have 20 s in all (not each: the demo ends within 20 s whatever
    # hangs); one still running then is named and killed, so that Ctrl-C always ends it.
    local pid waited=0
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 200 ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "demo: ${names[$pid]:-pid $pid} did not stop within 20 s of SIGTERM; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$broker_pid" ]; then
        kill -TERM "$broker_pid" 2>/dev/null || true
        for ((waited = 0; waited < 100; ++waited)); do
            kill -0 "$broker_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$broker_pid" 2>/dev/null; then
            echo "demo: mosquitto did not stop within 10 s of SIGTERM; killing it" >&2
            kill -KILL "$broker_pid" 2>/dev/null || true
        fi
        wait "$broker_pid" 2>/dev/null || true
        rm -f "$dir/mosquitto.pid"
    fi
    echo "demo: stopped; the data stays in $db" >&2
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() { # seconds, what, command...
    local limit=$(($1 * 10)) what=$2 i
    shift 2
    for ((i = 0; i < limit; i++)); do
        if "$@"; then return 0; fi
        sleep 0.1
    done
    echo "demo: $what did not happen within $((limit / 10)) s" >&2
    return 1
}

# The private broker: loopback only, nothing kept on disk, subscriptions logged so that the demo
# knows when the pipeline listens. In a session of its own, so that Ctrl-C reaches it through stop()
# after its clients.
broker_log=$dir/mosquitto.log
# Debian puts it in /usr/sbin, which is not on a user's PATH.
mosquitto=$(PATH=$PATH:/usr/sbin:/sbin command -v mosquitto) ||
    { echo "demo: mosquitto is not installed (scripts/deps.sh run installs it)" >&2; exit 1; }
for attempt in 1 2 3; do
    broker_port=$(free_port)
    {
        echo "listener $broker_port 127.0.0.1"
        echo "allow_anonymous true"
        echo "persistence false"
        echo "max_queued_messages 100000"
        echo "log_dest stderr"
        echo "log_type error"
        echo "log_type warning"
        echo "log_type notice"
        echo "log_type subscribe"
    } > "$dir/mosquitto.conf"
    setsid "$mosquitto" -c "$dir/mosquitto.conf" 2> "$broker_log" &
    broker_pid=$!
    # Out of the demo's process group: what kills that group (a test's cleanup after a hang) finds
    # the broker here.
    echo "$broker_pid" > "$dir/mosquitto.pid"
    if wait_for 5 "mosquitto listening on port $broker_port" listening "$broker_port" 2>/dev/null; then
        break
    fi
    kill "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
    broker_pid=""
    [ "$attempt" -lt 3 ] || { cat "$broker_log" >&2; echo "demo: mosquitto did not start" >&2; exit 1; }
done
mqtt=(-h 127.0.0.1 -p "$broker_port")
subscribed() { grep -q "$1 [0-2] $2" "$broker_log"; }

run iots-ingest "${mqtt[@]}" -i demo-ingest --db "$db" --quiet
run iots-detect "${mqtt[@]}" -i demo-detect --model "$model" --state "$state" --db "$db" --anomalies-only > /dev/null
run iots-alert "${mqtt[@]}" -i demo-alert --db "$db"
# The leak closes the valve and starts the fan on its own (examples/act/home.rules); the commands
# show on the dashboard's Control page, the action records below the alerts.
run iots-act "${mqtt[@]}" -i demo-act --input mqtt --rules examples/act/home.rules --db "$db"
run iots-serve --db "$db" --listen "127.0.0.1:$port" "${mqtt[@]}" -i demo-serve --tokens "$tokens"
# Nothing the nodes publish may go unheard: they start once the pipeline has subscribed.
wait_for 60 "iots-ingest subscribing" subscribed demo-ingest 'iotshield/sensors/#'
wait_for 60 "iots-detect subscribing" subscribed demo-detect 'iotshield/sensors/#'
wait_for 60 "iots-alert subscribing" subscribed demo-alert 'iotshield/anomalies/#'
wait_for 60 "iots-act subscribing" subscribed demo-act 'iotshield/alerts/#'
inc_args=()
for i in "${incidents[@]}"; do inc_args+=(--incident "$i"); done
echo "demo: the household goes on live from $(rfc3339 "$from")" >&2
run iots-sim "${mqtt[@]}" -i demo-node --actuators --devices 3 --realtime --start "$start" \
    --from "$(rfc3339 "$from")" --seed "$seed" "${inc_args[@]}" --quiet-log
wait_for 60 "iots-serve listening on port $port" listening "$port"

at() { date -d "@$((start_ms / 1000 + ${1%%m*} * 60))" +%H:%M:%S; }
cat >&2 <<EOF
demo: dashboard at http://127.0.0.1:$port/  log in with the token $token  (it is in $tokens)
demo: a fire in the kitchen at $(at "${incidents[-2]#*@}"), a gas leak in the living room at $(at "${incidents[-1]#*@}"); the Control page switches a node's fan or valve
demo: the broker is mosquitto on 127.0.0.1:$broker_port: mosquitto_sub -p $broker_port -t 'iotshield/#' -v
demo: alerts also print below; Ctrl-C stops
EOF
[ -z "${IOTS_DEMO_SECONDS:-}" ] || { sleep "$IOTS_DEMO_SECONDS" & pids+=("$!"); }
ended=""
rc=0
wait -n -p ended "${pids[@]}" || rc=$?
if [ -n "${names[$ended]:-}" ]; then
    echo "demo: ${names[$ended]} ended on its own (exit $rc); stopping the rest" >&2
    exit 1
fi
