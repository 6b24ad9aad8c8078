#!/usr/bin/env python3
"""Detection on series unlike the simulator's, scored the way the Numenta Anomaly Benchmark scores.

The series are generated here (stdlib only, seeded) with the traits of recorded sensor data that
iots-sim does not have: slow drift, daily and weekly seasonality, level shifts, a change of
variance, a slow failure, irregular sampling and long gaps that are not anomalies. Each labelled
anomaly gets a NAB window (10 % of the series' length shared between its anomalies, centred on the
onset). For each series, iots-train learns from its first 15 % (NAB's probationary period, whose
flags are not scored) and iots-detect scores the whole series; a second run uses no model.

NAB's standard profile: the first flag inside a window scores by how early it came (about +1 at the
window's start, 0 at its end), a window without a flag costs 1, every flag outside a window costs
0.11 (less right after a window). The normalised score is 100 for a perfect detector and 0 for one
that never flags.

Usage: bench/nab_eval.py [--bin DIR] [--seeds N] [--keep]
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

MIN = 60_000
STEP = 5 * MIN  # NAB's recorded series are mostly 5 minutes apart
START = 1_760_000_000_000
DAY = 86_400_000
A_TP, A_FP, A_FN = 1.0, 0.11, 1.0  # NAB's standard profile


def daily(t, peak_hour=15):
    return math.cos(2 * math.pi * ((t % DAY) / DAY - peak_hour / 24))


def series_room(rng, n):
    """Room temperature: daily cycle, slow drift; a heater left on (level shift) and a spike."""
    ts = [START + i * STEP for i in range(n)]
    shift_at, spike_at = int(n * rng.uniform(0.45, 0.6)), int(n * rng.uniform(0.75, 0.9))
    vals = []
    for i, t in enumerate(ts):
        v = 21 + 1.8 * daily(t) + 0.6 * i / n + rng.gauss(0, 0.15)
        if i >= shift_at:
            v += 3.5
        if i == spike_at:
            v += 6
        vals.append(round(v, 2))
    return "temperature", ts, vals, [shift_at, spike_at]


def series_machine(rng, n):
    """Machine temperature: steady with noise; a slow failure (a long slide) and a sudden drop."""
    ts = [START + i * STEP for i in range(n)]
    fail_at, drop_at = int(n * rng.uniform(0.3, 0.45)), int(n * rng.uniform(0.7, 0.85))
    vals = []
    for i, _ in enumerate(ts):
        v = 86 + rng.gauss(0, 0.8)
        if fail_at <= i < fail_at + 120:
            v -= 25 * (i - fail_at) / 120
        elif fail_at + 120 <= i < fail_at + 160:
            v -= 25
        if drop_at <= i < drop_at + 12:
            v -= 20
        vals.append(round(v, 2))
    return "machine_temperature", ts, vals, [fail_at, drop_at]


def series_cpu(rng, n):
    """A noisy utilisation: a regime of doubled load, and one of wild variance."""
    ts = [START + i * STEP for i in range(n)]
    up_at, var_at = int(n * rng.uniform(0.3, 0.45)), int(n * rng.uniform(0.7, 0.85))
    vals = []
    for i, _ in enumerate(ts):
        v = 35 + rng.gauss(0, 4)
        if up_at <= i < up_at + 200:
            v += 40
        if var_at <= i < var_at + 150:
            v = 35 + rng.gauss(0, 22)
        vals.append(round(min(100, max(0, v)), 1))
    return "cpu_utilization", ts, vals, [up_at, var_at]


def series_irregular(rng, n):
    """Humidity sampled irregularly (2-9 min) with long gaps (not anomalies); a spike and a stuck
    sensor."""
    ts, t = [], START
    gaps = {int(n * f) for f in (0.25, 0.5, 0.8)}
    for i in range(n):
        t += rng.randint(2, 9) * MIN + (6 * 3600_000 if i in gaps else 0)
        ts.append(t)
    spike_at, stuck_at = int(n * rng.uniform(0.35, 0.45)), int(n * rng.uniform(0.6, 0.75))
    vals = []
    for i, t in enumerate(ts):
        v = 55 - 8 * daily(t) + rng.gauss(0, 1.2)
        if i == spike_at:
            v += 30
        if stuck_at <= i < stuck_at + 150:
            v = vals[stuck_at - 1]
        vals.append(round(min(100, max(0, v)), 1))
    return "humidity", ts, vals, [spike_at, stuck_at]


def series_weekly(rng, n):
    """Office light: daily on/off with quieter weekends; lights on all night (a pattern anomaly)."""
    ts = [START + i * STEP for i in range(n)]
    day_i = rng.randint(int(n * 0.5 * STEP / DAY), int(n * 0.85 * STEP / DAY))
    night_at = next(i for i, t in enumerate(ts) if (t - START) // DAY == day_i and (t % DAY) >= 20 * 3600_000)
    vals = []
    for i, t in enumerate(ts):
        h = (t % DAY) / 3600_000
        weekday = ((t - START) // DAY) % 7 < 5
        on = 8 <= h < 18 and weekday
        v = (420 if on else 12) + rng.gauss(0, 8 if on else 2)
        if night_at <= i < night_at + 96:
            v = 420 + rng.gauss(0, 8)
        vals.append(round(max(0, v), 1))
    return "light", ts, vals, [night_at]


KINDS = [series_room, series_machine, series_cpu, series_irregular, series_weekly]


def windows(n, onsets):
    width = max(1, int(0.1 * n / len(onsets)))
    return [(max(0, o - width // 2), min(n - 1, o + width // 2)) for o in sorted(onsets)]


def scaled_sigmoid(y):
    return -1.0 if y > 3.0 else 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def nab_score(flags, wins, probation):
    """Raw NAB score of one series, its perfect and null scores, and the windows found."""
    score, found = 0.0, set()
    for i, f in enumerate(flags):
        if not f or i < probation:
            continue
        w = next((k for k, (a, b) in enumerate(wins) if a <= i <= b), None)
        if w is not None:
            a, b = wins[w]
            if w not in found:  # only the first flag in a window counts
                found.add(w)
                score += A_TP * scaled_sigmoid(-(b - i + 1) / (b - a + 1))
            continue
        prev = [(a, b) for a, b in wins if b < i]
        if prev:  # a false alarm right after a window costs less
            a, b = prev[-1]
            score += A_FP * scaled_sigmoid((i - b) / (b - a + 1))
        else:
            score -= A_FP
    score -= A_FN * (len(wins) - len(found))
    perfect = sum(A_TP * scaled_sigmoid(-1.0) for _ in wins)
    return score, perfect, -A_FN * len(wins), len(found)


def run(bin_dir, ndjson, model, args):
    cmd = [os.path.join(bin_dir, "iots-detect"), "--quiet-log"] + (["--model", model] if model else []) + args
    out = subprocess.run(cmd, input=ndjson, capture_output=True, text=True, check=True).stdout
    return [json.loads(line)["anomaly"] for line in out.splitlines()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default="build/tools", help="directory of the built tools")
    ap.add_argument("--seeds", type=int, default=4, help="series of each kind (seeds)")
    ap.add_argument("--length", type=int, default=4032, help="points per series (4032 = 14 days)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="iots-nab-eval-")
    t0 = time.time()
    totals = {}
    print(f"{'series':22s} {'model':>6s} {'windows':>8s} {'found':>6s} {'flags out':>9s} {'score':>7s}")
    for kind in KINDS:
        for seed in range(1, a.seeds + 1):
            rng = random.Random(f"{kind.__name__}-{seed}")
            sensor, ts, vals, onsets = kind(rng, a.length)
            lines = [json.dumps({"ts": t, "device": "nab", "sensor": sensor, "value": v}, separators=(",", ":"))
                     for t, v in zip(ts, vals)]
            probation = int(0.15 * len(lines))
            all_text = "\n".join(lines) + "\n"
            model = os.path.join(work, f"{kind.__name__}-{seed}.iotsmodel")
            subprocess.run([os.path.join(a.bin, "iots-train"), "--quiet-log", "--model", model],
                           input="\n".join(lines[:probation]) + "\n", text=True, check=True)
            wins = windows(len(lines), onsets)
            for label, m in (("model", model), ("none", None)):
                flags = run(a.bin, all_text, m, [])
                raw, perfect, null, found = nab_score(flags, wins, probation)
                outside = sum(1 for i, f in enumerate(flags) if f and i >= probation
                              and not any(x <= i <= y for x, y in wins))
                norm = 100 * (raw - null) / (perfect - null)
                t = totals.setdefault(label, [0.0, 0.0, 0.0, 0, 0, 0])
                t[0] += raw; t[1] += perfect; t[2] += null; t[3] += len(wins); t[4] += found; t[5] += outside
                print(f"{kind.__name__[7:] + '-' + str(seed):22s} {label:>6s} {len(wins):8d} {found:6d} {outside:9d} {norm:7.1f}",
                      flush=True)
    print()
    for label, (raw, perfect, null, nw, found, outside) in totals.items():
        print(f"all series, {label:5s}: NAB standard score {100 * (raw - null) / (perfect - null):5.1f} "
              f"(windows found {found}/{nw}, flags outside windows {outside})")
    print(f"({time.time() - t0:.0f} s; files in {work})" if a.keep else f"({time.time() - t0:.0f} s)")
    if not a.keep:
        for f in os.listdir(work):
            os.remove(os.path.join(work, f))
        os.rmdir(work)


if __name__ == "__main__":
    sys.exit(main())
