#!/bin/sh
# What Home Assistant is told: every retained discovery config on the broker, one entity a line
# (component, node/object, device class, unit, state topic), the way Home Assistant will list them.
# Usage: show-discovery.sh [mosquitto_sub options...]      e.g. show-discovery.sh -h hub.lan -p 8883
#        --cafile ca.crt -u homeassistant -P ...     (a user that may read homeassistant/#)
# Environment: DISCOVERY_PREFIX (homeassistant), WAIT (seconds to wait for retained configs, 2).
set -eu
prefix=${DISCOVERY_PREFIX:-homeassistant}

mosquitto_sub "$@" -t "$prefix/+/+/+/config" -v --retained-only -W "${WAIT:-2}" 2>/dev/null |
while read -r topic config; do
    printf '%s\t%s\n' "$topic" "$config"
done |
jq -R -r 'split("\t") as [$t, $c] | ($c | fromjson) as $j | ($t | split("/")) as $p
    | [$p[1], "\($p[2])/\($p[3])", ($j.device_class // "-"), ($j.unit_of_measurement // "-"),
       $j.state_topic] | @tsv' |
sort
