# iots-detect's alarm lane: a flame reading published after a backlog of ordinary readings is
# scored (and its anomaly published) before most of that backlog, because the sensors with a
# safety threshold (flame, gas, temperature) come in on a connection of their own. Order of the
# output records, not time: the backlog waits in the broker for a persistent session while
# iots-detect is away, and the flame reading is published last. --no-alarm-lane: one connection,
# the broker's order, the fire last.
. "$(dirname "$0")/lib.sh"

start_broker
N=4000
T0=1761410712000
python3 - "$N" "$T0" > "$WORK/backlog.ndjson" <<'EOF'
import math, sys
n, t0 = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    v = 45 + 3 * math.sin(i / 50)
    print('{"ts":%d,"device":"n1","sensor":"humidity","value":%.2f}' % (t0 + i * 1000, v))
EOF

# backlog ID [iots-detect options]: sets POS, the fire's record number among the N+1 records.
backlog() {
    local id=$1; shift
    local mqtt=(-h 127.0.0.1 -p "$BROKER_PORT" -q 1 -c -i "$id" "$@")
    local watch=(mosquitto_sub -p "$BROKER_PORT" -q 1 -c -i "$id-watch"
        -t iotshield/anomalies/k/flame)
    "${watch[@]}" -W 1 > /dev/null || true # its session keeps the fire's anomaly for the end

    # 1: persistent sessions, subscribed: a humidity and a flame probe come back.
    background iots-detect "${mqtt[@]}" > "$WORK/$id.first" 2> "$WORK/$id.first.err"
    local det=$LAST_PID i rc
    probed() { grep -q '"device":"probe","sensor":"humidity"' "$WORK/$id.first" &&
        grep -q '"device":"probe","sensor":"flame"' "$WORK/$id.first"; }
    for i in $(seq 1 100); do
        for s in humidity flame; do
            mosquitto_pub -p "$BROKER_PORT" -q 1 -t "iotshield/sensors/probe/$s" \
                -m "{\"ts\":$((T0 + i * 1000)),\"device\":\"probe\",\"sensor\":\"$s\",\"value\":0}"
        done
        if probed; then break; fi
        sleep 0.2
    done
    probed || fail "$id: the probes never came out of the first run"
    kill -TERM "$det"
    rc=0; wait "$det" || rc=$?
    assert_eq 0 "$rc" "$id: first run's SIGTERM exit"

    # 2: while it is away, N ordinary readings, then a fire.
    mosquitto_pub -p "$BROKER_PORT" -q 1 -t iotshield/sensors/n1/humidity -l < "$WORK/backlog.ndjson"
    mosquitto_pub -p "$BROKER_PORT" -q 1 -t iotshield/sensors/k/flame \
        -m "{\"ts\":$((T0 + N * 1000)),\"device\":\"k\",\"sensor\":\"flame\",\"value\":1}"

    # 3: back: every reading comes out once, and the fire's anomaly is published.
    local out="$WORK/$id.out"
    background iots-detect "${mqtt[@]}" > "$out" 2> "$WORK/$id.err"
    det=$LAST_PID
    lines() { [ "$(wc -l < "$out")" -ge $((N + 1)) ]; }
    wait_until 120 lines || fail "$id: backlog not scored: $(wc -l < "$out") of $((N + 1))"
    kill -TERM "$det"
    rc=0; wait "$det" || rc=$?
    assert_eq 0 "$rc" "$id: SIGTERM exit"
    assert_eq $((N + 1)) "$(wc -l < "$out")" "$id: records out (each reading once)"
    assert_eq "$N" "$(grep -c '"sensor":"humidity"' "$out")" "$id: backlog records"
    grep '"device":"k","sensor":"flame"' "$out" | grep -q '"anomaly":true' ||
        fail "$id: fire not flagged"
    POS=$(grep -n '"device":"k","sensor":"flame"' "$out" | cut -d: -f1)
    "${watch[@]}" -C 1 -W 30 > "$WORK/$id.anomaly" || fail "$id: fire's anomaly not published"
    grep -q '"device":"k","sensor":"flame"' "$WORK/$id.anomaly" || fail "$id: anomaly topic"
}

backlog t-lane
# One connection would make it record N+1, after the whole backlog.
[ "$POS" -le $((N / 4)) ] || fail "the fire came out as record $POS of $((N + 1)), behind the backlog"
lane=$POS
backlog t-one --no-alarm-lane
assert_eq $((N + 1)) "$POS" "--no-alarm-lane: the fire's record, in the broker's order"
pass "fire is record $lane of $((N + 1)) (--no-alarm-lane: $POS)"
