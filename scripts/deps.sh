#!/usr/bin/env bash
# Installs the Debian 12 packages IoTShield needs that are missing. Idempotent and quiet when all is
# there. Usage: scripts/deps.sh [build|run|test|bench]   (each level includes the ones before it)
set -euo pipefail
level=${1:-build}

build_pkgs=(g++ cmake make pkg-config ccache libmosquitto-dev libcli11-dev nlohmann-json3-dev
    libsqlite3-dev libcurl4-openssl-dev libarmadillo-dev libfmt-dev libboost-test-dev
    libboost-dev libcpp-httplib-dev libsimdjson-dev libssl-dev libhowardhinnant-date-dev tzdata)
run_pkgs=(sqlite3 mosquitto mosquitto-clients python3)
# clang and its runtime (libFuzzer, ASan, UBSan) build the fuzz targets of tests/fuzz.
test_pkgs=(openssl chromium procps scdoc clang libclang-rt-14-dev
    systemd jq curl gocryptfs fuse3) # systemd-analyze verify checks examples/systemd; jq, curl: the
# example recipes; gocryptfs, fuse3: tests/e2e/at_rest_gocryptfs (the data directory encrypted)
# bench/run: wrk loads iots-serve; /usr/bin/time measures CPU and peak memory.
bench_pkgs=(wrk time bc curl)

pkgs=("${build_pkgs[@]}")
case "$level" in
build) ;;
run) pkgs+=("${run_pkgs[@]}") ;;
test) pkgs+=("${run_pkgs[@]}" "${test_pkgs[@]}") ;;
bench) pkgs+=("${run_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
*) echo "usage: $0 [build|run|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The browser test drives Chromium with playwright-core from npm: Node.js from Debian unless present.
if { [ "$level" = test ] || [ "$level" = bench ]; } && ! command -v npm >/dev/null 2>&1; then
    missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
