#!/bin/sh
# Scores what the nodes publish, with nothing but mosquitto_sub in front of the detector: each
# message on iotshield/sensors/<device>/<sensor> is one reading, one line of NDJSON.
# Usage: broker-detect.sh [iots-detect options...]
# Environment: BROKER_HOST (localhost), BROKER_PORT (1883), COUNT (stop after this many readings;
# unset: run until stopped).
set -eu

mosquitto_sub -h "${BROKER_HOST:-localhost}" -p "${BROKER_PORT:-1883}" -q 1 -t 'iotshield/sensors/+/+' ${COUNT:+-C "$COUNT"} | iots-detect "$@"
