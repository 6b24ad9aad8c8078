# iots-detect --db and iots-alert --db when the reader of stdout is gone: they stop quietly with 0
# (as every filter does), but what they scored or raised before stopping is in the database.
. "$(dirname "$0")/lib.sh"
R="python3 $IOTS_TEST_DATA/ingest/readings.py"
cd "$WORK"

# Runs a tool with stdin from a file and stdout a pipe whose reader is already closed: the first
# write meets EPIPE. Prints the exit status.
closed_stdout() { # input err tool args...
    python3 - "$@" <<'EOF'
import os, subprocess, sys
inp, err, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
r, w = os.pipe()
os.close(r)
with open(inp) as i, open(err, "w") as e:
    print(subprocess.call(cmd, stdin=i, stdout=w, stderr=e))
EOF
}

# 1. iots-detect --db: the scores of the readings it read are committed, in order.
$R gen 20000 > in.ndjson
iots-ingest --db d.db --quiet < in.ndjson 2>/dev/null
assert_eq 0 "$(closed_stdout in.ndjson detect.err iots-detect --db d.db)" "detect exit"
scored=$(db_count d.db readings "score IS NOT NULL")
[ "$scored" -gt 0 ] || fail "no score committed: $(cat detect.err)"
assert_eq "$((scored - 1))" "$(sqlite3 d.db 'SELECT max(seq) FROM readings WHERE score IS NOT NULL')" \
    "the scored readings are the first $scored"
echo "detect scored $scored readings before EPIPE"

# 2. iots-alert --db: the alert whose write met EPIPE is stored all the same.
python3 - > anomalies.ndjson <<'EOF'
import json
t0 = 1761400000000
for i, (dev, sensor, value) in enumerate([("kitchen-1", "flame", 1), ("attic-1", "gas", 3000)]):
    print(json.dumps({"ts": t0 + i * 60000, "device": dev, "sensor": sensor, "value": value,
                      "score": 0.99, "anomaly": True, "reasons": ["threshold:" + sensor]}))
EOF
iots-alert --replay --db all.db < anomalies.ndjson > all.out 2>/dev/null
assert_eq 2 "$(db_count all.db alerts)" "alerts stored with a reader"
assert_eq 0 "$(closed_stdout anomalies.ndjson alert.err iots-alert --replay --db a.db)" "alert exit"
assert_eq 1 "$(db_count a.db alerts)" "alerts stored when the first write met EPIPE"
assert_eq "$(head -n 1 all.out | jq -r .device)" "$(sqlite3 a.db 'SELECT device FROM alerts')" \
    "the stored alert"
pass "detect and alert commit what they did before a closed stdout"
