# iots-serve answering while iots-ingest writes at full speed into the same database: every
# request succeeds, and "database is locked" reaches neither a client nor the server's log. The
# dashboard's reads (health, summary, devices, recent readings, one series, alerts) and its writes
# (acknowledging and resolving alerts) run in a loop, four clients at once, for as long as ingest
# runs.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
N=300000
iots-sim --count $N --devices 6 --seed 11 > in.ndjson

# A few alerts to acknowledge and resolve under load.
python3 - > anomalies.ndjson <<'EOF'
import json
t0 = 1761400000000
for i in range(10):
    print(json.dumps({"ts": t0 + i * 1000, "device": f"node-{i}", "sensor": "flame",
                      "value": 1, "score": 0.99, "anomaly": True, "reasons": ["threshold:flame"]}))
EOF
iots-alert --replay --db home.db < anomalies.ndjson > alerts.out 2>/dev/null
jq -r .id alerts.out > alert.ids
assert_eq 10 "$(wc -l < alert.ids)" "alerts to work on"
assert_eq 10 "$(db_count home.db alerts "status = 'new'")" "open alerts"

PORT=$(free_port)
background iots-serve --db home.db --listen "127.0.0.1:$PORT" --threads 4 2> serve.err
SERVE_PID=$LAST_PID
wait_port "$PORT"

cat > client.py <<'EOF'
import os, sys, threading, urllib.error, urllib.request
port = sys.argv[1]
base = f"http://127.0.0.1:{port}"
ids = [l.strip() for l in open("alert.ids") if l.strip()]
gets = ["/api/health", "/api/stats/summary/", "/api/devices/list/",
        "/api/sensors/recent/?limit=200", "/api/alerts/list/?limit=50",
        "/api/readings?device=esp32-livingroom&sensor=temperature&from=2025-10-01T00:00:00Z"
        "&to=2025-11-01T00:00:00Z&points=500"]
# Each alert once acknowledged, then once resolved: 20 writes, every other request of worker 0.
posts = [f"/api/alerts/{a}/{what}" for what in ("ack", "resolve") for a in ids]
lock = threading.Lock()
done, during, bad = 0, 0, []

def request(req):
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except Exception as e:  # a dropped connection is a failure too
        return 0, repr(e)

def worker(k):
    global done, during
    i = k
    while not os.path.exists("ingest.done") or done < 50 or (k == 0 and posts):
        if k == 0 and i % 2 == 1 and posts:
            req = urllib.request.Request(base + posts.pop(0), data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
        else:
            req = urllib.request.Request(base + gets[i % len(gets)])
        i += 1
        status, body = request(req)
        with lock:
            done += 1
            during += 0 if os.path.exists("ingest.done") else 1
            if status >= 300 or "locked" in body or "busy" in body:
                bad.append(f"{req.get_method()} {req.full_url}: {status} {body[:200]}")

threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open("client.out", "w") as f:
    f.write(f"{done} {len(bad)} {during}\n")
    for b in bad[:20]:
        f.write(b + "\n")
EOF
background python3 client.py "$PORT"
CLIENT_PID=$LAST_PID

rc=0
iots-ingest --db home.db --quiet < in.ndjson 2> ingest.err || rc=$?
touch ingest.done
assert_eq 0 "$rc" "ingest exit under read load"
assert_eq "iots-ingest: info: received $N, stored $N, rejected 0, duplicates 0" "$(cat ingest.err)" \
    "ingest counters"
wait "$CLIENT_PID" || fail "the client failed"
read -r requests failures during < client.out
[ "$during" -ge 10 ] || fail "only $during requests while ingest ran"
[ "$failures" -eq 0 ] || fail "$failures of $requests requests failed: $(tail -n +2 client.out)"
grep -qi "locked\|busy" serve.err && fail "serve log: $(grep -i 'locked\|busy' serve.err | head -3)"
assert_eq 10 "$(db_count home.db alerts "status = 'resolved'")" "alerts resolved under load"
kill -INT "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
assert_eq 0 "$rc" "serve exit"
echo "$requests requests, $during of them while ingest stored $N readings"
pass "no failed request and no lock error under a full-speed writer"
