#!/bin/sh
# A day of the home in plain text, for mail or a chat: per series its count, minimum, mean and
# maximum and anomalies, then the day's alerts by severity and the worst ones.
# Usage: daily-report.sh [DAY]        (YYYY-MM-DD in UTC; default yesterday)
# Environment: IOTS_DB (the database, /var/lib/iotshield/home.db).
set -eu
db=${IOTS_DB:-/var/lib/iotshield/home.db}
day=${1:-$(date -u -d yesterday +%F)}
from=$(( $(date -u -d "$day" +%s) * 1000 ))
to=$(( from + 86400000 ))
[ -r "$db" ] || { echo "daily-report: cannot read $db" >&2; exit 66; }

echo "IoTShield daily report for $day (UTC)"
echo
echo "Readings"
sqlite3 -readonly -separator ' ' "$db" "
SELECT printf('  %-20s %-12s %7d readings  min %9.2f  mean %9.2f  max %9.2f  %5d anomalies',
              d.name, s.name, count(*), min(r.value), avg(r.value), max(r.value),
              coalesce(sum(r.anomaly), 0))
FROM readings r JOIN series x ON x.id = r.series_id
JOIN devices d ON d.id = x.device_id JOIN sensors s ON s.id = x.sensor_id
WHERE r.ts >= $from AND r.ts < $to
GROUP BY d.name, s.name ORDER BY d.name, s.name;"
echo
echo "Alerts"
sqlite3 -readonly "$db" "
SELECT printf('  %-8s %d', severity, count(*)) FROM alerts
WHERE ts >= $from AND ts < $to
GROUP BY severity
ORDER BY CASE severity WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'MEDIUM' THEN 2 ELSE 3 END;
SELECT printf('  none') WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE ts >= $from AND ts < $to);"
echo
echo "Worst alerts"
sqlite3 -readonly "$db" "
SELECT printf('  %s  %-8s %s: %s', strftime('%H:%M', ts / 1000, 'unixepoch'), severity, device, title)
FROM alerts WHERE ts >= $from AND ts < $to AND severity IN ('CRITICAL', 'HIGH')
ORDER BY CASE severity WHEN 'CRITICAL' THEN 0 ELSE 1 END, ts LIMIT 10;"
