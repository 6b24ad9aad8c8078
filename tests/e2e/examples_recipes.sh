#!/usr/bin/env bash
# The recipes of examples/pipelines and examples/cron, run as written: the whole pipeline in one
# line, mosquitto_sub | iots-detect, alerts filtered by jq into ntfy (a real HTTP listener on
# loopback receives what curl posts) and into notify-send (a stand-in named by NOTIFY_SEND records
# its arguments), the nightly retraining and the daily report, and the crontab's own lines.
. "$(dirname "$0")/lib.sh"

EX="$IOTS_SRC/examples"
cd "$WORK"

# --- The whole pipeline in one line: a fire after the first simulated hour.
sh "$EX/pipelines/whole-pipeline.sh" "$WORK/home.db" > alerts.ndjson 2> pipeline.err ||
    fail "whole-pipeline.sh exited $?"
assert_eq 8640 "$(db_count home.db readings)" "readings stored by the pipeline"
jq -e -s 'any(.severity == "CRITICAL" and (.title | test("^Fire detected")))' alerts.ndjson > /dev/null ||
    fail "no CRITICAL fire alert: $(cat alerts.ndjson)"
assert_eq "$(wc -l < alerts.ndjson)" "$(db_count home.db alerts)" "alerts stored in the same database"

# --- notify-send: MEDIUM and above, not the resolve; CRITICAL stays (urgency critical).
mkdir -p bin
cat > bin/fake-notify-send <<'SH'
#!/bin/sh
printf '%s\n' "$*" >> "$NOTIFY_LOG"
SH
chmod +x bin/fake-notify-send
want=$(jq -s '[.[] | select(.source == "rules" and .event != "resolve"
    and (.severity == "MEDIUM" or .severity == "HIGH" or .severity == "CRITICAL"))] | length' alerts.ndjson)
[ "$want" -ge 1 ] || fail "no alert to notify"
NOTIFY_LOG="$WORK/notify.log" NOTIFY_SEND="$WORK/bin/fake-notify-send" \
    sh "$EX/pipelines/notify-desktop.sh" < alerts.ndjson 2> notify.err || fail "notify-desktop.sh exited $?"
assert_eq "$want" "$(wc -l < notify.log)" "desktop notifications"
grep -q '^--app-name=IoTShield --urgency=critical Fire detected' notify.log ||
    fail "no critical fire notification: $(cat notify.log)"
! grep -q 'resolved\|--urgency=low' notify.log || fail "a resolve or LOW alert was notified: $(cat notify.log)"

# --- ntfy: HIGH and CRITICAL to a real HTTP listener on loopback; curl is the real curl.
NTFY_PORT=$(free_port)
cat > ntfy.py <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps({"path": self.path, "title": self.headers.get("Title"),
                                "priority": self.headers.get("Priority"), "body": body}) + "\n")
        self.send_response(200); self.end_headers(); self.wfile.write(b"{}")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
background python3 ntfy.py "$NTFY_PORT" "$WORK/ntfy.log"
wait_port "$NTFY_PORT"
want=$(jq -s '[.[] | select(.source == "rules" and .event != "resolve"
    and (.severity == "HIGH" or .severity == "CRITICAL"))] | length' alerts.ndjson)
NTFY_URL="http://127.0.0.1:$NTFY_PORT/home-alerts" sh "$EX/pipelines/notify-ntfy.sh" < alerts.ndjson 2> ntfy.err ||
    fail "notify-ntfy.sh exited $?"
assert_eq "$want" "$(wc -l < ntfy.log)" "ntfy posts"
jq -e -s 'all(.path == "/home-alerts") and any(.priority == "urgent" and (.title | test("^Fire detected"))
    and (.body | length > 40))' ntfy.log > /dev/null || fail "ntfy posts: $(cat ntfy.log)"
[ ! -s ntfy.err ] || fail "notify-ntfy.sh: $(cat ntfy.err)"
# Without NTFY_URL it says so.
if NTFY_URL= sh "$EX/pipelines/notify-ntfy.sh" < /dev/null 2> nourl.err; then fail "no NTFY_URL accepted"; fi
grep -q NTFY_URL nourl.err || fail "no NTFY_URL: $(cat nourl.err)"

# --- From the broker: alerts off MQTT into the notifier, readings off MQTT into the detector.
start_broker
crit=$(jq -c 'select(.severity == "CRITICAL")' alerts.ndjson | head -n 1)
mosquitto_pub -p "$BROKER_PORT" -q 1 -r -t iotshield/alerts/sim-1 -m "$crit"
: > notify.log
mosquitto_sub -p "$BROKER_PORT" -t 'iotshield/alerts/+' -C 1 -W 10 |
    NOTIFY_LOG="$WORK/notify.log" NOTIFY_SEND="$WORK/bin/fake-notify-send" sh "$EX/pipelines/notify-desktop.sh" ||
    fail "mosquitto_sub | notify-desktop.sh exited $?"
grep -q 'urgency=critical Fire detected' notify.log || fail "from MQTT: $(cat notify.log)"

background iots-sim -h 127.0.0.1 -p "$BROKER_PORT" --devices 2 --realtime --interval 1s 2> sim.err
COUNT=36 BROKER_HOST=127.0.0.1 BROKER_PORT=$BROKER_PORT sh "$EX/pipelines/broker-detect.sh" > scored.ndjson 2> detect.err ||
    fail "broker-detect.sh exited $?"
assert_eq 36 "$(wc -l < scored.ndjson)" "readings scored from the broker"
jq -e -s 'all(has("score") and has("anomaly"))' scored.ndjson > /dev/null || fail "not scored: $(head -n 2 scored.ndjson)"

# --- cron: the nightly retraining over the last 28 days, then the detector restarted.
iots-sim --devices 1 --start "$(date -u -d '3 days ago' +%F)T00:00:00Z" --duration 1d 2> /dev/null |
    iots-ingest --db "$WORK/recent.db" --quiet 2> ingest.err || fail "recent history"
IOTS_DB="$WORK/recent.db" RESTART="touch $WORK/restarted" sh "$EX/cron/retrain.sh" 2> retrain.err ||
    fail "retrain.sh exited $?: $(cat retrain.err)"
[ -s home.model ] || fail "retrain.sh wrote no home.model beside the database"
[ -f restarted ] || fail "retrain.sh did not restart the detector"
head -n 50 <(iots-sim --devices 1 2>/dev/null) | iots-detect --model home.model > /dev/null 2> detect2.err ||
    fail "iots-detect refuses the new model: $(cat detect2.err)"

# --- cron: the daily report of the pipeline's day (its readings and its fire).
day=$(sqlite3 home.db "SELECT strftime('%Y-%m-%d', min(ts) / 1000, 'unixepoch') FROM readings")
IOTS_DB="$WORK/home.db" sh "$EX/cron/daily-report.sh" "$day" > report.txt 2> report.err ||
    fail "daily-report.sh exited $?"
grep -q "^IoTShield daily report for $day" report.txt || fail "report title: $(head -n 1 report.txt)"
[ "$(grep -c ' 1440 readings ' report.txt)" = 6 ] || fail "six series of 1440 readings: $(cat report.txt)"
grep -qE '^  CRITICAL +[1-9]' report.txt || fail "no CRITICAL count: $(cat report.txt)"
grep -q 'CRITICAL .*Fire detected' report.txt || fail "the fire is not among the worst: $(cat report.txt)"
# A day without data says so; a missing database is exit 66.
IOTS_DB="$WORK/home.db" sh "$EX/cron/daily-report.sh" 2001-01-01 > empty.txt
grep -q '^  none' empty.txt || fail "empty day: $(cat empty.txt)"
set +e
IOTS_DB="$WORK/missing.db" sh "$EX/cron/daily-report.sh" 2> missing.err; rc=$?
set -e
assert_eq 66 "$rc" "daily-report.sh without a database"

# --- The crontab's lines, as cron would run them (the scripts where the crontab says to install
# them, mail and logger as stand-ins that keep what they were given).
CRON="$EX/cron/iotshield.cron"
cat > bin/mail <<'SH'
#!/bin/sh
{ echo "mail $*"; cat; } > "$MAIL_LOG"
SH
cat > bin/logger <<'SH'
#!/bin/sh
cat > "$LOGGER_LOG"
SH
cat > bin/systemctl <<'SH'
#!/bin/sh
echo "systemctl $*" > "$SYSTEMCTL_LOG"
SH
chmod +x bin/mail bin/logger bin/systemctl
jobs=0
while read -r m h dom mon dow user cmd; do
    case "$m" in ''|'#'*|*=*) continue ;; esac
    assert_eq root "$user" "crontab user"
    [[ "$m $h $dom $mon $dow" =~ ^[0-9]+\ [0-9]+\ \*\ \*\ \*$ ]] || fail "crontab time: $m $h $dom $mon $dow"
    cmd=${cmd//\/usr\/local\/lib\/iotshield\//$EX/cron/}
    env -i HOME="$WORK" PATH="$WORK/bin:$IOTS_BIN:/usr/bin:/bin" IOTS_DB="$WORK/recent.db" \
        MAIL_LOG="$WORK/mail.log" LOGGER_LOG="$WORK/logger.log" SYSTEMCTL_LOG="$WORK/systemctl.log" \
        sh -c "$cmd" || fail "crontab line failed: $cmd"
    jobs=$((jobs + 1))
done < "$CRON"
assert_eq 2 "$jobs" "crontab jobs"
grep -q '^systemctl try-restart iots-detect.service' systemctl.log || fail "cron retrain did not restart iots-detect"
grep -q '^mail -s IoTShield: yesterday at home root' mail.log || fail "report not mailed: $(head -n 1 mail.log)"
grep -q '^IoTShield daily report for ' mail.log || fail "mailed report: $(cat mail.log)"
pass "pipeline line, broker | detect, ntfy, notify-send, retraining, daily report and crontab"
