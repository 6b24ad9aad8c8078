#!/usr/bin/env bash
# iots-detect and iots-train speed, memory per series, beside scikit-learn's IsolationForest on the
# same feature matrix. Prints a table. Usage: bench/detect_speed.sh BUILD_DIR [READINGS]
# python3-sklearn (Debian), where installed, for the comparison rows.
set -euo pipefail
BUILD=$(cd "${1:?usage: detect_speed.sh BUILD_DIR [READINGS]}" && pwd)
N=${2:-1000000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=$BUILD/tools
W=$(mktemp -d /tmp/iots-detect-speed.XXXXXX)
trap 'rm -rf "$W"' EXIT
one() { taskset -c 0 "$@"; } # one core

"$BIN/iots-sim" --devices 10 --count "$N" --seed 9 > "$W/in.ndjson"
"$BIN/iots-sim" --devices 10 --duration 2d --seed 8 > "$W/train.ndjson"
rate() { # command... ; prints readings/s (best of 3)
    local best=0 t0 t1 r
    for _ in 1 2 3; do
        t0=$(date +%s.%N); "$@" < "$W/in.ndjson" > /dev/null; t1=$(date +%s.%N)
        r=$(python3 -c "print(int($N / ($t1 - $t0)))"); [ "$r" -gt "$best" ] && best=$r
    done
    echo "$best"
}
no_model=$(rate one "$BIN/iots-detect" --quiet-log)
"$BIN/iots-train" --model "$W/m.iotsmodel" --quiet-log < "$W/train.ndjson"
with_model=$(rate one "$BIN/iots-detect" --quiet-log --model "$W/m.iotsmodel")
cat_rate=$(rate one cat)
# Loading the model alone (it is inside the with-model rate): best of 3, ms.
load_ms=$(for _ in 1 2 3; do
    t0=$(date +%s.%N); one "$BIN/iots-detect" --quiet-log --model "$W/m.iotsmodel" < /dev/null
    t1=$(date +%s.%N); python3 -c "print(round(($t1 - $t0) * 1000))"; done | sort -n | head -1)

# Training on 100,000 rows of one series: the whole tool, and the forest fit alone.
python3 - "$W" <<'PY'
import json, sys
w = sys.argv[1]
with open(f"{w}/train100k.ndjson", "w") as f:
    for i in range(100016):
        f.write(json.dumps({"ts": 1700000000000 + 5000 * i, "device": "d", "sensor": "temperature",
                            "value": round(21 + (i % 997) / 997.0, 2)}) + "\n")
PY
t0=$(date +%s.%N)
one "$BIN/iots-train" --model "$W/t.iotsmodel" < "$W/train100k.ndjson" 2> "$W/train.err"
t1=$(date +%s.%N)
train_tool_ms=$(python3 -c "print(round(($t1 - $t0) * 1000))")
g++ -std=c++20 -O2 -I"$SRC/lib" "$SRC/bench/detect_fit.cpp" \
    "$BUILD/lib/iotshield/detect/libiots_detect.a" "$BUILD/lib/iotshield/record/libiots_record.a" \
    "$BUILD/lib/iotshield/core/libiots_core.a" -larmadillo -lfmt -ldate-tz -o "$W/fit"
fit=$(one "$W/fit" 100000 "$W/X.csv")

# Memory per series: peak RSS with 20,000 series minus with 20, over the extra series.
python3 - "$W" <<'PY'
import json, sys
w = sys.argv[1]
for n, name in ((20, "few"), (20000, "many")):
    with open(f"{w}/{name}.ndjson", "w") as f:
        for k in range(40):
            for s in range(n):
                f.write(json.dumps({"ts": 1700000000000 + 5000 * k, "device": f"d{s}",
                                    "sensor": "temperature", "value": 21 + (k * 7 + s) % 5 / 10}) + "\n")
PY
rss() { /usr/bin/time -f %M "$BIN/iots-detect" --quiet-log < "$W/$1.ndjson" 2>&1 >/dev/null | tail -1; }
few=$(rss few); many=$(rss many)
per_series=$(( (many - few) * 1024 / (20000 - 20) ))

# scikit-learn where installed (python3-sklearn); its rows say so when it is not.
sk="- - -"
if /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
sk=$(/usr/bin/python3 - "$W/X.csv" <<'PY'
import sys, time
import numpy as np
from sklearn.ensemble import IsolationForest
X = np.loadtxt(sys.argv[1], delimiter=",")
best_fit = 1e9
for _ in range(3):
    t0 = time.perf_counter(); m = IsolationForest(n_estimators=100, max_samples=256, random_state=1).fit(X)
    best_fit = min(best_fit, time.perf_counter() - t0)
t0 = time.perf_counter(); m.score_samples(X); batch = len(X) / (time.perf_counter() - t0)
t0 = time.perf_counter()
for i in range(200): m.score_samples(X[i:i + 1])
single_ms = (time.perf_counter() - t0) / 200 * 1000
print(f"{best_fit * 1000:.1f} {batch:.0f} {single_ms:.2f}")
PY
)
fi
read -r sk_fit sk_batch sk_single <<< "$sk"
[ "$sk_fit" = - ] && sk_fit="not installed"

printf '%-58s %14s %14s\n' "measure (one core)" "IoTShield" "target"
printf '%-58s %14s %14s\n' "iots-detect readings/s, no model (NDJSON in and out)" "$no_model" ">= 1000000"
printf '%-58s %14s %14s\n' "iots-detect readings/s, 100-tree model" "$with_model" ">= 250000"
printf '%-58s %14s %14s\n' "  of which loading the model (no input), ms" "$load_ms" ""
printf '%-58s %14s %14s\n' "cat of the same file, readings/s (pipe ceiling)" "$cat_rate" ""
printf '%-58s %14s %14s\n' "forest fit, 100 trees on 100,000 rows, ms" "$(awk '{print $4}' <<< "$fit")" "< 50"
printf '%-58s %14s %14s\n' "forest batch scoring, points/s" "$(awk '{print $6}' <<< "$fit")" ""
printf '%-58s %14s %14s\n' "forest scoring, 60 forests in turn (as iots-detect), points/s" "$(awk '{print $10}' <<< "$fit")" ""
printf '%-58s %14s %14s\n' "iots-train on 100,000 NDJSON rows, whole tool, ms" "$train_tool_ms" ""
printf '%-58s %14s %14s\n' "memory per series, bytes (RSS, 20,000 series)" "$per_series" "< 4096"
printf '%-58s %14s\n' "scikit-learn IsolationForest fit, same matrix, ms" "$sk_fit"
printf '%-58s %14s\n' "scikit-learn score_samples batch, points/s" "$sk_batch"
printf '%-58s %14s\n' "scikit-learn score_samples one point, ms" "$sk_single"
