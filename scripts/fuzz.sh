#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) in build-fuzz and runs each
# for FUZZ_SECONDS (default 30) over a copy of its seed corpus, so the checkout is not modified.
# A crash leaves its input in build-fuzz/crashes/<target>/ and fails the script: turn it into a
# unit test in tests/unit, then fix. Usage: scripts/fuzz.sh [TARGET...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
jobs=$(nproc)
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DIOTS_FUZZ=ON >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for src in tests/fuzz/fuzz_*.cpp; do
        name=$(basename "$src" .cpp)
        targets+=("${name#fuzz_}")
    done
fi
cmake --build build-fuzz -j "$jobs" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
work=$(mktemp -d "${TMPDIR:-/tmp}/iots-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=()
for t in "${targets[@]}"; do
    mkdir -p "$work/$t" "build-fuzz/crashes/$t"
    cp tests/fuzz/corpus/"$t"/* "$work/$t/"
    # 64 KiB holds every kind of input many times over (a longer one only slows the fuzzer: the
    # parsers are linear); one input taking 10 s is a hang.
    max_len=65536
    echo "== fuzz: $t for ${seconds}s" >&2
    if ! build-fuzz/tests/fuzz/fuzz_"$t" "$work/$t" -max_total_time="$seconds" -max_len=$max_len \
        -timeout=10 -rss_limit_mb=2048 -artifact_prefix="build-fuzz/crashes/$t/" \
        -print_final_stats=1 > "$work/$t.log" 2>&1; then
        tail -n 60 "$work/$t.log" >&2
        failed+=("$t")
    else
        grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$work/$t.log" | tail -n 2 >&2 || true
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in ${failed[*]}: inputs in build-fuzz/crashes/" >&2
    exit 1
fi
