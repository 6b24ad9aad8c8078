# The dashboard in headless Chromium over the real pipeline: iots-sim (with actuators) -> broker
# -> iots-ingest -> SQLite -> iots-serve. Needs Debian's chromium and `npm ci` run once in
# tests/browser (the setup script does both). Screenshots go to the build directory as artefacts.
. "$(dirname "$0")/lib.sh"

BROWSER_DIR="$IOTS_SRC/tests/browser"
[ -d "$BROWSER_DIR/node_modules/playwright-core" ] \
    || fail "playwright-core missing: run 'npm ci' in tests/browser (the setup script does)"
[ -x /usr/bin/chromium ] || fail "chromium missing: apt-get install chromium"

start_broker
PORT=$(free_port)
DB="$WORK/home.db"
# Two hours of history for the charts, stored through the same writer.
iots-sim --devices 1 --interval 30s --start "$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)" \
    --duration 2h --seed 7 | iots-ingest --db "$DB" --quiet 2> "$WORK/backfill.err"
background iots-sim --realtime --interval 1s --devices 1 --actuators -h 127.0.0.1 -p "$BROKER_PORT" \
    2> "$WORK/sim.err"
background iots-ingest -h 127.0.0.1 -p "$BROKER_PORT" --db "$DB" --quiet 2> "$WORK/ingest.err"
# Data written by a device or a model that is markup must stay text on every page.
# Retained, so iots-ingest gets it even if it has not subscribed yet.
mosquitto_pub -p "$BROKER_PORT" -q 1 -r -t iotshield/sensors/esp32-attic/temperature -m \
    "{\"ts\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"device\":\"esp32-attic\",\"sensor\":\"temperature\",\"value\":19.5,\"location\":\"<img src=x onerror=alert(1)>\"}"
attic() { [ "$(sqlite3 "$DB" "SELECT location FROM devices WHERE name = 'esp32-attic'")" = '<img src=x onerror=alert(1)>' ]; }
wait_until 10 attic || fail "the attic reading was not stored"
sqlite3 "$DB" "INSERT INTO alerts (id, ts, device, sensor, severity, title, description, suggestion, rules_title,
    rules_description, rules_suggestion, value, score, source, status)
  SELECT 'browser-xss', CAST(strftime('%s','now') AS INTEGER) * 1000, name, 'temperature', 'CRITICAL',
    '<img src=x onerror=alert(1)>', '<script>alert(2)</script> heat rising fast',
    'Leave the room.', 'Fire suspected in the living room',
    'Temperature 62 C, normal 18-26 C; flame sensor on.', 'Get everyone out and call 112.',
    62, 0.99, 'gemini', 'new' FROM devices WHERE name <> 'esp32-attic' LIMIT 1;"
background iots-serve --db "$DB" --listen "127.0.0.1:$PORT" -h 127.0.0.1 -p "$BROKER_PORT" \
    --allow-control --command-timeout 2s 2> "$WORK/serve.err"
wait_port "$PORT"

SHOTS="$IOTS_BIN/.."
node "$BROWSER_DIR/dashboard.test.mjs" "http://127.0.0.1:$PORT/" "$BROKER_PORT" "$SHOTS" \
    > "$WORK/browser.log" 2>&1 || { cat "$WORK/browser.log" >&2; fail "browser test"; }
cat "$WORK/browser.log"
pass "screenshots in $(cd "$SHOTS" && pwd)/serve-*.png"
