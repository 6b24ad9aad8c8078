#!/usr/bin/env bash
# --compact-after through the tool: simulated hours more than 1h behind each series' newest reading
# move into reading_chunks while ingesting, nothing is lost (rows + chunk readings = stored, the
# series counts unchanged), iots-train --db learns the same model from it as from rows, and the same
# file ingested again is all duplicates, compacted readings included. By default (1d) a longer run
# compacts its older hours; --compact-after off none.
. "$(dirname "$0")/lib.sh"

iots-sim --devices 1 --duration 4h --seed 3 > "$WORK/sim.ndjson"
N=$(wc -l < "$WORK/sim.ndjson")
iots-ingest --db "$WORK/rows.db" --quiet < "$WORK/sim.ndjson" || fail "rows: exit $?"
iots-ingest --db "$WORK/c.db" --quiet --compact-after 1h < "$WORK/sim.ndjson" || fail "compact: exit $?"

CHUNKS=$(sqlite3 "$WORK/c.db" "SELECT count(*) FROM reading_chunks")
[ "$CHUNKS" -ge 6 ] || fail "expected at least 6 chunks (2 hours of 6 sensors), got $CHUNKS"
ROWS=$(sqlite3 "$WORK/c.db" "SELECT count(*) FROM readings")
IN_CHUNKS=$(sqlite3 "$WORK/c.db" "SELECT sum(n) FROM reading_chunks")
[ $((ROWS + IN_CHUNKS)) -eq "$N" ] || fail "rows $ROWS + chunks $IN_CHUNKS != $N"
[ "$(sqlite3 "$WORK/c.db" "SELECT sum(count) FROM series")" -eq "$N" ] || fail "series counts changed"
# Every chunk is an hour of its series, older than the rows kept.
sqlite3 "$WORK/c.db" "SELECT count(*) FROM reading_chunks WHERE start_ts % 3600000 != 0 OR end_ts >= start_ts + 3600000" |
    grep -qx 0 || fail "a chunk is not within its hour"

# The same history out of both files: the same model, byte for byte (same seed, same data).
iots-train --quiet-log --db "$WORK/rows.db" --model "$WORK/rows.model" || fail "train rows: exit $?"
iots-train --quiet-log --db "$WORK/c.db" --model "$WORK/c.model" || fail "train compact: exit $?"
cmp -s "$WORK/rows.model" "$WORK/c.model" || fail "the model trained on the compacted file differs"

# Redelivered: all duplicates, the compacted ones too.
iots-ingest -v --db "$WORK/c.db" --quiet --compact-after 1h < "$WORK/sim.ndjson" 2> "$WORK/again.err" ||
    fail "again: exit $?"
grep -q "stored 0, rejected 0, duplicates $N" "$WORK/again.err" ||
    fail "expected $N duplicates: $(cat "$WORK/again.err")"

# The default is --compact-after 1d: 26 hours compact their first hour or two by default, and
# --compact-after off (like 0) keeps every reading a row.
iots-sim --devices 1 --duration 26h --interval 10m --seed 5 > "$WORK/day.ndjson"
N2=$(wc -l < "$WORK/day.ndjson")
iots-ingest --db "$WORK/default.db" --quiet < "$WORK/day.ndjson" || fail "default: exit $?"
D_ROWS=$(sqlite3 "$WORK/default.db" "SELECT count(*) FROM readings")
D_CHUNKED=$(sqlite3 "$WORK/default.db" "SELECT coalesce(sum(n), 0) FROM reading_chunks")
[ "$D_CHUNKED" -gt 0 ] || fail "the default compacted nothing of 26 hours"
[ $((D_ROWS + D_CHUNKED)) -eq "$N2" ] || fail "default: rows $D_ROWS + chunks $D_CHUNKED != $N2"
sqlite3 "$WORK/default.db" "SELECT count(*) FROM reading_chunks WHERE end_ts > (SELECT max(ts) FROM readings) - 86400000" |
    grep -qx 0 || fail "the default compacted readings less than a day old"
iots-ingest --db "$WORK/off.db" --quiet --compact-after off < "$WORK/day.ndjson" || fail "off: exit $?"
assert_eq "$N2 0" "$(sqlite3 "$WORK/off.db" "SELECT (SELECT count(*) FROM readings), (SELECT count(*) FROM reading_chunks)" | tr '|' ' ')" \
    "--compact-after off: every reading a row"
pass "compacted $IN_CHUNKS of $N readings into $CHUNKS chunks; by default $D_CHUNKED of $N2"
