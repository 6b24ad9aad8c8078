#!/usr/bin/env bash
# The README's broker block: iots-ingest and iots-detect both on the broker, both on one database,
# with and without a model. iots-detect usually scores a reading before iots-ingest has committed
# it; still every stored reading ends up with the score and flag iots-detect gave it (readings
# without seq matched by series, ts and value), and the anomalies rows are the flagged readings.
. "$(dirname "$0")/lib.sh"

N=3000 # readings iots-sim publishes: 2 nodes x 6 sensors, a fire in the kitchen node
SIM_OPTS=(--count "$N" --seed 11 --devices 2 --interval 5s --start 2025-10-06T00:00:00Z
    --incident fire@10m)

iots-sim --devices 2 --duration 6h --seed 3 --start 2025-10-05T00:00:00Z > "$WORK/hist.ndjson"
iots-train --model "$WORK/home.model" < "$WORK/hist.ndjson" 2> "$WORK/train.log" ||
    fail "iots-train exited with $?"

# Readings without seq, on the legacy-free data topic: 200 of one series, and at every 40th
# millisecond a second reading at the same ms with another value (60 C, over the heat level).
python3 > "$WORK/plain.ndjson" <<'EOF'
base = 1759708800000  # 2025-10-06T00:00:00Z
for i in range(200):
    ts = base + i * 10000
    print('{"ts":%d,"device":"plain-node","sensor":"temperature","value":%.2f}' % (ts, 21 + (i % 7) * 0.05))
    if i % 40 == 20:
        print('{"ts":%d,"device":"plain-node","sensor":"temperature","value":60}' % ts)
EOF
M=$(wc -l < "$WORK/plain.ndjson")
TOTAL=$((N + M))

start_broker "log_type subscribe" "log_type error" "log_type warning"

subscribed() { grep -q "$1 1 $2/sensors/#" "$WORK/mosquitto.log"; }

run_case() { # name, then iots-detect's extra options
    local name=$1
    shift
    local db="$WORK/$name.db" prefix="t-$name"
    background iots-ingest -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -i "$name-ingest" \
        --topic-prefix "$prefix" --db "$db" --quiet 2> "$WORK/$name-ingest.err"
    local ingest=$LAST_PID
    wait_until 20 subscribed "$name-ingest" "$prefix" || fail "$name: iots-ingest did not subscribe"
    background iots-detect -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -i "$name-detect" \
        --topic-prefix "$prefix" --db "$db" "$@" > "$WORK/$name.out" 2> "$WORK/$name-detect.err"
    local detect=$LAST_PID
    wait_until 20 subscribed "$name-detect" "$prefix" || fail "$name: iots-detect did not subscribe"

    iots-sim "${SIM_OPTS[@]}" -h 127.0.0.1 -p "$BROKER_PORT" -q 1 --topic-prefix "$prefix" \
        2> "$WORK/$name-sim.err" || fail "$name: iots-sim exited with $?"
    mosquitto_pub -p "$BROKER_PORT" -q 1 -t "$prefix/sensors/data" -l < "$WORK/plain.ndjson" ||
        fail "$name: mosquitto_pub exited with $?"

    all_in() {
        [ "$(db_count "$db" readings)" -ge "$TOTAL" ] && [ "$(wc -l < "$WORK/$name.out")" -ge "$TOTAL" ]
    }
    wait_until 60 all_in ||
        fail "$name: stored $(db_count "$db" readings), scored $(wc -l < "$WORK/$name.out") of $TOTAL"
    # While both still run: the scores reach the readings iots-ingest committed after they came.
    all_scored() { [ "$(db_count "$db" readings 'score IS NULL')" = 0 ]; }
    wait_until 20 all_scored ||
        fail "$name: $(db_count "$db" readings 'score IS NULL') of $TOTAL stored readings have no score"

    kill -TERM "$ingest"
    wait "$ingest" || fail "$name: iots-ingest exited with $? on SIGTERM"
    kill -INT "$detect"
    local rc=0
    wait "$detect" || rc=$?
    assert_eq 0 "$rc" "$name: iots-detect exit on SIGINT"

    assert_eq "$TOTAL" "$(db_count "$db" readings)" "$name: stored readings"
    assert_eq 0 "$(db_count "$db" readings 'score IS NULL')" "$name: stored readings without a score"
    assert_eq 0 "$(db_count "$db" readings 'anomaly IS NULL')" "$name: stored readings without a flag"
    grep -q "stored scores $TOTAL (.*not in database 0)" "$WORK/$name-detect.err" ||
        fail "$name: counters: $(tail -n 1 "$WORK/$name-detect.err")"

    local flagged
    flagged=$(grep -c '"anomaly":true' "$WORK/$name.out")
    [ "$flagged" -gt 0 ] || fail "$name: nothing flagged in a fire"
    assert_eq "$flagged" "$(db_count "$db" readings 'anomaly = 1')" "$name: flagged stored readings"
    assert_eq "$flagged" "$(db_count "$db" anomalies)" "$name: anomalies rows"
    assert_eq 0 "$(sqlite3 "$db" "SELECT count(*) FROM anomalies a WHERE NOT EXISTS (
        SELECT 1 FROM readings r WHERE r.series_id = a.series_id AND r.ts = a.ts
        AND r.value = a.value AND r.anomaly = 1)")" "$name: anomalies rows without a flagged reading"

    # Each stored reading carries its own score: (series, ts, seq), or (series, ts, value) without.
    python3 - "$WORK/$name.out" "$db" <<'EOF' || fail "$name: stored scores differ from iots-detect's output"
import datetime, json, sqlite3, sys
def ms(ts):
    dt = datetime.datetime.strptime(ts.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    return round(dt.timestamp() * 1000)
scored = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    key = (r["device"], r["sensor"], ms(r["ts"]), r["seq"] if "seq" in r else float(r["value"]))
    assert key not in scored, "scored twice: %r" % (key,)
    scored[key] = (r["score"], 1 if r["anomaly"] else 0)
con = sqlite3.connect(sys.argv[2])
rows = con.execute("""SELECT d.name, s.name, r.ts, r.seq, r.value, r.score, r.anomaly
    FROM readings r JOIN series x ON x.id = r.series_id JOIN devices d ON d.id = x.device_id
    JOIN sensors s ON s.id = x.sensor_id""").fetchall()
bad = 0
for dev, sen, ts, seq, value, score, anomaly in rows:
    want = scored.get((dev, sen, ts, seq if seq >= 0 else float(value)))
    if want is None or abs(want[0] - score) > 1e-9 or want[1] != anomaly:
        bad += 1
        if bad <= 5:
            print("stored", (dev, sen, ts, seq, value, score, anomaly), "scored", want)
assert bad == 0, "%d of %d rows" % (bad, len(rows))
EOF
    pass "$name: $TOTAL readings stored and scored, $flagged flagged;$(grep -o ', stored scores.*' "$WORK/$name-detect.err" | cut -c2-)"
}

run_case streaming
run_case model --model "$WORK/home.model"

# iots-detect on stdin from mosquitto_sub, iots-ingest on the broker: the scores still waiting at
# the end of the input find their readings (a last look; before it, a wait while iots-ingest keeps
# committing, which this case cannot tell from the last look alone).
db="$WORK/stdin.db"
background iots-ingest -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -i stdin-ingest --topic-prefix t-stdin \
    --db "$db" --quiet 2> "$WORK/stdin-ingest.err"
ingest=$LAST_PID
wait_until 20 subscribed stdin-ingest t-stdin || fail "stdin: iots-ingest did not subscribe"
[ -f "$db" ] || fail "stdin: iots-ingest did not create $db"
background sh -c "mosquitto_sub -p $BROKER_PORT -q 1 -i stdin-sub -t 't-stdin/sensors/#' -C $M |
    iots-detect --db '$db' > '$WORK/stdin.out' 2> '$WORK/stdin-detect.err'"
pipeline=$LAST_PID
wait_until 20 subscribed stdin-sub t-stdin || fail "stdin: mosquitto_sub did not subscribe"
mosquitto_pub -p "$BROKER_PORT" -q 1 -t t-stdin/sensors/data -l < "$WORK/plain.ndjson" ||
    fail "stdin: mosquitto_pub exited with $?"
wait "$pipeline" || fail "stdin: mosquitto_sub | iots-detect exited with $?"
assert_eq "$M" "$(wc -l < "$WORK/stdin.out")" "stdin: scored readings"
assert_eq 0 "$(db_count "$db" readings 'score IS NULL')" "stdin: stored readings without a score"
kill -TERM "$ingest"
wait "$ingest" || fail "stdin: iots-ingest exited with $? on SIGTERM"
assert_eq "$M" "$(db_count "$db" readings 'score IS NOT NULL')" "stdin: scored stored readings"
pass "stdin:$(grep -o ', stored scores.*' "$WORK/stdin-detect.err" | cut -c2-)"
