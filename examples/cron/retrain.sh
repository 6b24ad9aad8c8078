#!/bin/sh
# Nightly retraining: a new model from the last 28 days of history, swapped in only once it is
# whole (iots-train writes FILE.tmp and renames it), owned like the database (so the detector's
# user can read it), then the detector restarted to load it.
# Usage: retrain.sh
# Environment: IOTS_DB (the database, /var/lib/iotshield/home.db), IOTS_MODEL (the model file,
# beside the database: home.model), IOTS_TZ (the home's zone, else TZ, else UTC), DAYS (28),
# RESTART (the command that makes the detector load it: systemctl try-restart iots-detect.service;
# empty: none).
set -eu
db=${IOTS_DB:-/var/lib/iotshield/home.db}
model=${IOTS_MODEL:-$(dirname "$db")/home.model}
days=${DAYS:-28}
since=$(( ($(date +%s) - days * 86400) * 1000 ))

iots-train --db "$db" --model "$model" --since "$since" ${IOTS_TZ:+--tz "$IOTS_TZ"}
chown --reference="$db" "$model" 2>/dev/null || true
${RESTART-systemctl try-restart iots-detect.service}
