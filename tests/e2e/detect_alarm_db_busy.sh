#!/usr/bin/env bash
# iots-detect -h --db: an anomaly is published without waiting for the database. Another process
# holds the write lock (as iots-ingest does while it commits a batch); a flame reading published
# meanwhile still gives its anomaly on the broker while the lock is held, and once the lock goes
# its score reaches the database (the anomalies row), nothing lost.
. "$(dirname "$0")/lib.sh"

db="$WORK/h.db"
iots-ingest --db "$db" --quiet < /dev/null 2> /dev/null || fail "schema"
start_broker "log_type subscribe"
background iots-detect -h 127.0.0.1 -p "$BROKER_PORT" -q 1 --anomalies-only --db "$db" \
    > /dev/null 2> "$WORK/detect.err"
det=$LAST_PID
subscribed() { grep -q " 1 iotshield/sensors/#" "$WORK/mosquitto.log"; }
wait_until 20 subscribed || fail "iots-detect did not subscribe"

flame() { # device, ts offset: a CRITICAL flame reading
    mosquitto_pub -p "$BROKER_PORT" -q 1 -t "iotshield/sensors/$1/flame" \
        -m "{\"ts\":$((1761410712000 + $2)),\"device\":\"$1\",\"sensor\":\"flame\",\"value\":1}"
}
# A first anomaly with the database free: iots-detect has created the series and committed.
mosquitto_sub -p "$BROKER_PORT" -t 'iotshield/anomalies/#' -C 1 -W 20 > "$WORK/first" &
sub=$!
sleep 0.5
flame warm 0
wait "$sub" || fail "no anomaly with the database free"
anomalies_are() { [ "$(db_count "$db" anomalies)" = "$1" ]; }
wait_until 20 anomalies_are 1 || fail "first anomaly not stored"

# Another writer takes the write lock and keeps it until told.
mkfifo "$WORK/sql"
sqlite3 "$db" < "$WORK/sql" > "$WORK/sql.out" 2>&1 &
BG_PIDS+=($!)
exec 3> "$WORK/sql"
printf '.timeout 10000\nBEGIN IMMEDIATE;\nSELECT %s;\n' "'locked'" >&3
wait_until 20 grep -q locked "$WORK/sql.out" || fail "could not take the write lock"

mosquitto_sub -p "$BROKER_PORT" -t 'iotshield/anomalies/fire/#' -C 1 -W 20 > "$WORK/second" &
sub=$!
sleep 0.5
flame fire 1000
rc=0
wait "$sub" || rc=$?
locked_rows=$(db_count "$db" anomalies 2> /dev/null || echo "?")
printf 'COMMIT;\n' >&3
exec 3>&-
assert_eq 0 "$rc" "anomaly published while another process holds the database's write lock"
grep -q '"device":"fire"' "$WORK/second" || fail "anomaly: $(cat "$WORK/second")"

# Released: the score and anomaly row follow.
wait_until 20 anomalies_are 2 ||
    fail "anomalies rows after the lock: $(db_count "$db" anomalies) (during: $locked_rows)"
kill -TERM "$det"
rc=0
wait "$det" || rc=$?
assert_eq 0 "$rc" "SIGTERM exit"
pass "an anomaly does not wait for a busy database"
