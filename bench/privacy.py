#!/usr/bin/env python3
"""bench/privacy.py -- what differential privacy buys, and what it costs: issue 14's
privacy-utility table, for iots-export's hourly aggregates and for per-reading edge noise
(iots-sim --dp-epsilon) at the same daily epsilon. Prints a table; never run by the test suite.

Households: iots-sim homes of 3 nodes (livingroom, kitchen, bedroom), a reading a minute, seeds
1..--train (the adversary learns on them) and 101..100+--test (scored), --days each, in UTC. The
truth is iots-sim --occupancy: an hour is "someone home" when the household is home or asleep (not
away) for more than half of it.

Rows: epsilon per released value in {0.1, 0.5, 1, 2, 5} and no noise.
- export: what leaves is iots-export's release under a policy of hourly windows, per node a
  temperature mean clamped to [10, 35] C and a motion count (readings with motion) clamped to 60,
  Laplace at that epsilon each: 3 nodes x 2 values x 24 hours = 144 values a day, so the day's
  epsilon for the home is 144 times the row's.
- edge: every reading leaves, noised on the node with iots-sim --dp-epsilon at that same daily
  epsilon (144 times the row's), split over the 17,292 noised readings the home sends a day (3
  nodes x 4 kinds x 1,441); gas and flame leave exact (safety channels, never noised).

Utility: the mean absolute error of the hourly temperature mean, of the daily temperature mean
(export: the mean of the day's 24 released hourly means; edge: the hub's mean of the noised
readings) and of the hourly motion count (edge: the count estimated from randomized response's
reports) against the exact aggregates; and the detector's incident recall and false alarms per
device-day (bench/detect_eval.py's definitions: iots-train on --detect-days incident-free days and
iots-detect on --detect-days more with each incident kind injected --repeats times, a reading
every 5 s; for edge both on edge-noised readings; for export on the raw readings, since detection
stays in the home).

Privacy: an adversary that sees what left the home predicts "someone home" for each hour with a
logistic regression (pure Python, L2) on the hour's released values (export: per node the
temperature mean and motion count; edge: per node the hourly mean of each of the six sensors as
received) and the hour of day, trained on the --train households, scored on the --test ones: ROC
AUC. The table gives its gain over the same regression on the hour of day alone.

Usage: bench/privacy.py [--bin DIR] [--days 7] [--train 4] [--test 4] [--quick]
"""
import argparse
import json
import math
import operator
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import detect_eval  # noqa: E402  (its definitions of recall and false alarms)

START = "2025-10-06T00:00:00Z"
START_MS = 1759708800000
HOUR = 3600000
EPSILONS = [0.1, 0.5, 1, 2, 5, None]
ROOMS = ["livingroom", "kitchen", "bedroom"]
DEVICES = [f"esp32-{r}" for r in ROOMS]
SENSORS = ["temperature", "humidity", "gas", "flame", "motion", "light"]
VALUES_PER_DAY = len(DEVICES) * 2 * 24  # export: a temperature mean and a motion count per node-hour
ENV = dict(os.environ, TZ="UTC")


def tool(a, name):
    return os.path.join(a.bin, name) if a.bin else name


def run(cmd, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    r = subprocess.run(cmd, env=ENV, stderr=subprocess.PIPE, **kw)
    if r.returncode != 0:
        sys.exit(f"privacy: {' '.join(cmd)}: exit {r.returncode}: {r.stderr.decode()[-1500:]}")
    return r


def sim_args(a, seed, days, interval="60s"):
    return [tool(a, "iots-sim"), "--devices", "3", "--rooms", ",".join(ROOMS), "--interval", interval,
            "--duration", f"{days}d", "--seed", str(seed), "--start", START]


def ms_of(ts):
    return detect_eval.rfc3339_ms(ts)


def occupancy(path, days):
    """hour index -> 1 if home or asleep for more than half of the hour."""
    changes = []
    for line in open(path):
        r = json.loads(line)
        changes.append((ms_of(r["ts"]), r["presence"] != "away"))
    end = START_MS + days * 24 * HOUR
    changes.append((end, None))
    inside = [0.0] * (days * 24)
    for (t0, occ), (t1, _) in zip(changes, changes[1:]):
        if not occ:
            continue
        t = t0
        while t < t1:
            h = (t - START_MS) // HOUR
            stop = min(t1, START_MS + (h + 1) * HOUR)
            inside[h] += (stop - t) / HOUR
            t = stop
    return [1 if x > 0.5 else 0 for x in inside]


def hourly(lines):
    """(device, sensor, hour) -> (sum, n, sum clamped to [10, 35], ones) of the readings. The
    lines are iots-sim's, keys in the record's fixed order (ts, device, sensor, value, ...) and
    times in October 2025 from the 6th: taken apart by position, not by a JSON parser."""
    acc = {}
    for line in lines:
        p = line.split('"', 14)
        ts, rest = p[3], p[14]
        assert ts[:8] == "2025-10-" and p[13] == "value", line
        key = (p[7], p[11], (int(ts[8:10]) - 6) * 24 + int(ts[11:13]))
        v = float(rest[1:rest.index(",")])
        s = acc.get(key)
        if s is None:
            s = acc[key] = [0.0, 0, 0.0, 0]
        s[0] += v
        s[1] += 1
        s[2] += min(35.0, max(10.0, v))
        s[3] += 1 if v != 0 else 0
    return acc


# --- the adversary ---------------------------------------------------------------------------

def auc(scores, labels):
    """P(score of a positive > score of a negative) + half the ties (Mann-Whitney)."""
    pairs = sorted(zip(scores, labels))
    npos = sum(labels)
    nneg = len(labels) - npos
    rank, i, rsum = 1, 0, 0.0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        avg = (rank + rank + (j - i) - 1) / 2
        rsum += avg * sum(1 for k in range(i, j) if pairs[k][1] == 1)
        rank += j - i
        i = j
    return (rsum - npos * (npos + 1) / 2) / (npos * nneg)


def fit_predict(train_x, train_y, test_x, iters=150, lr=1.0, l2=1e-3):
    """Logistic regression by gradient descent on standardised features; scores of test_x."""
    d = len(train_x[0])
    mean = [sum(r[j] for r in train_x) / len(train_x) for j in range(d)]
    sd = [math.sqrt(sum((r[j] - mean[j]) ** 2 for r in train_x) / len(train_x)) or 1.0
          for j in range(d)]
    z = lambda r: [(r[j] - mean[j]) / sd[j] for j in range(d)]
    xs = [z(r) for r in train_x]
    w, b, n = [0.0] * d, 0.0, len(xs)
    cols = list(zip(*xs))
    for _ in range(iters):
        err = []
        for x, y in zip(xs, train_y):
            s = b + sum(map(operator.mul, w, x))
            err.append((1 / (1 + math.exp(-max(-30.0, min(30.0, s)))) - y) / n)
        b -= lr * sum(err)
        w = [wj - lr * (l2 * wj + sum(map(operator.mul, err, c))) for wj, c in zip(w, cols)]
    return [b + sum(map(operator.mul, w, z(r))) for r in test_x]


def onehot(h):
    v = [0.0] * 24
    v[h % 24] = 1.0
    return v


def adversary_gain(features, truth, train_seeds, test_seeds):
    """features[seed][hour] -> list; truth[seed][hour] -> 0/1. (AUC, AUC of the hour alone)."""
    def rows(seeds, with_release):
        xs, ys = [], []
        for s in seeds:
            for h, y in enumerate(truth[s]):
                xs.append((features[s][h] if with_release else []) + onehot(h))
                ys.append(y)
        return xs, ys
    tx, ty = rows(train_seeds, True)
    vx, vy = rows(test_seeds, True)
    full = auc(fit_predict(tx, ty, vx), vy)
    key = (tuple(train_seeds), tuple(test_seeds))
    if key not in _BASE:  # the hour of day alone: the same for every row
        tx, ty = rows(train_seeds, False)
        vx, vy = rows(test_seeds, False)
        _BASE[key] = auc(fit_predict(tx, ty, vx), vy)
    return full, _BASE[key]


_BASE = {}


# --- export ----------------------------------------------------------------------------------

def export(a, db, eps, days, dest, work):
    policy = {"window": "1h", "budget": {"epsilon_per_day": 1e6},
              "sensors": {"temperature": {"release": "mean", "range": [10, 35], "epsilon": eps},
                          "motion": {"release": "count", "max_count": 60, "epsilon": eps}}}
    path = os.path.join(work, "policy.json")
    with open(path, "w") as f:
        json.dump(policy, f)
    out = run([tool(a, "iots-export"), "--db", db, "--policy", path, "--destination", dest,
               "--since", START, "--until", f"2025-10-{6 + days:02d}T00:00:00Z", "--quiet-log"]
              ).stdout.decode()
    rel = {}
    for line in out.splitlines():
        r = json.loads(line)
        h = (ms_of(r["window_start"]) - START_MS) // HOUR
        rel[(r["device"], r["sensor"], h)] = r.get("mean", r.get("count"))
    return rel


def exact_export(acc):
    rel = {}
    for (d, s, h), (sm, n, clamped, ones) in acc.items():
        if s == "temperature":
            rel[(d, s, h)] = clamped / n
        elif s == "motion":
            rel[(d, s, h)] = min(60, ones)
    return rel


def export_figures(rel, acc, days):
    e_h, e_m, daily = [], [], {}
    for d in DEVICES:
        for h in range(days * 24):
            t = acc.get((d, "temperature", h))
            if t and (d, "temperature", h) in rel:
                exact = t[2] / t[1]
                e_h.append(abs(rel[(d, "temperature", h)] - exact))
                daily.setdefault((d, h // 24), []).append((rel[(d, "temperature", h)], exact))
            m = acc.get((d, "motion", h))
            if m and (d, "motion", h) in rel:
                e_m.append(abs(rel[(d, "motion", h)] - min(60, m[3])))
    e_d = [abs(sum(x for x, _ in v) / len(v) - sum(y for _, y in v) / len(v)) for v in daily.values()]
    return mean(e_h), mean(e_d), mean(e_m)


def export_features(rel, days):
    return [[rel.get((d, s, h), 0.0) for d in DEVICES for s in ("temperature", "motion")]
            for h in range(days * 24)]


# --- edge ------------------------------------------------------------------------------------

def edge_figures(noised, acc, days, eps_reading):
    """The hub's aggregates of edge-noised readings against the exact ones."""
    q = 1 / (1 + math.exp(eps_reading)) if eps_reading else 0.0
    e_h, e_m, daily = [], [], {}
    for d in DEVICES:
        for day in range(days):
            sums = [0.0, 0, 0.0, 0]
            for h in range(day * 24, day * 24 + 24):
                t, nt = acc.get((d, "temperature", h)), noised.get((d, "temperature", h))
                if t and nt:
                    e_h.append(abs(nt[0] / nt[1] - t[0] / t[1]))
                    sums[0] += nt[0]
                    sums[1] += nt[1]
                    sums[2] += t[0]
                    sums[3] += t[1]
                m, nm = acc.get((d, "motion", h)), noised.get((d, "motion", h))
                if m and nm:
                    est = (nm[3] - nm[1] * q) / (1 - 2 * q) if eps_reading else nm[3]
                    e_m.append(abs(est - m[3]))
            if sums[1]:
                daily.setdefault(d, []).append(abs(sums[0] / sums[1] - sums[2] / sums[3]))
    return mean(e_h), mean([x for v in daily.values() for x in v]), mean(e_m)


def edge_features(noised, days):
    out = []
    for h in range(days * 24):
        row = []
        for d in DEVICES:
            for s in SENSORS:
                v = noised.get((d, s, h))
                row.append(v[0] / v[1] if v else 0.0)
        out.append(row)
    return out


# --- detection -------------------------------------------------------------------------------

def detection(a, work, day_eps):
    """(recall, caught, events, false alarms per device-day) of iots-train + iots-detect."""
    noise = ["--dp-epsilon", f"{day_eps:g}"] if day_eps else []
    days = a.detect_days
    train = os.path.join(work, "train.ndjson")
    model = os.path.join(work, "model.iotsmodel")
    scored = os.path.join(work, "scored.ndjson")
    with open(train, "wb") as out:
        run(sim_args(a, 1, days, "5s") + noise, stdout=out)
    with open(train, "rb") as inp:
        run([tool(a, "iots-train"), "--model", model, "--quiet-log"], stdin=inp)
    kinds = detect_eval.KINDS
    n = len(kinds) * a.repeats
    span_min = days * 24 * 60
    incidents, injected = [], []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        offset = int((i + 0.5) * span_min / n)
        if kind == "intrusion":
            offset = detect_eval.empty_house_minute(offset, i // len(kinds), span_min)
        dev = DEVICES[i % len(DEVICES)]
        incidents += ["--incident", f"{kind}@{offset}m/{dev}"]
        injected.append((kind, dev, START_MS + offset * 60000))
    sim = subprocess.Popen(sim_args(a, 2, days, "5s") + noise + incidents, env=ENV,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    with open(scored, "wb") as out:
        run([tool(a, "iots-detect"), "--quiet-log", "--model", model], stdin=sim.stdout, stdout=out)
    sim.wait()
    table, fa, _, _ = detect_eval.evaluate(scored, 5000, len(DEVICES), days, injected)
    events = sum(t["events"] for t in table.values())
    caught = sum(t["caught"] for t in table.values())
    for p in (train, scored):
        os.unlink(p)
    return caught, events, fa


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", help="directory of the built tools (default: $IOTS_BIN, else PATH)",
                    default=os.environ.get("IOTS_BIN"))
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--train", type=int, default=4, help="households the adversary learns on")
    ap.add_argument("--test", type=int, default=4, help="households it is scored on")
    ap.add_argument("--detect-days", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2, help="incidents of each kind")
    ap.add_argument("--no-detect", action="store_true", help="leave the detector columns out")
    ap.add_argument("--quick", action="store_true", help="3 days, 3 + 3 households, 1 repeat")
    a = ap.parse_args()
    if a.quick:
        a.days, a.train, a.test, a.detect_days, a.repeats = 3, 3, 3, 1, 1
    t0 = time.time()
    work = tempfile.mkdtemp(prefix="iots-bench-privacy-")
    train_seeds = list(range(1, a.train + 1))
    test_seeds = list(range(101, 101 + a.test))
    seeds = train_seeds + test_seeds
    truth, acc, dbs = {}, {}, {}
    for s in seeds:
        occ = os.path.join(work, f"occ{s}.ndjson")
        raw = run(sim_args(a, s, a.days) + ["--occupancy", occ]).stdout
        truth[s] = occupancy(occ, a.days)
        acc[s] = hourly(raw.decode().splitlines())
        dbs[s] = os.path.join(work, f"home{s}.db")
        run([tool(a, "iots-ingest"), "--db", dbs[s], "--quiet", "--quiet-log"], input=raw)
    occupied = sum(sum(t) for t in truth.values()) / sum(len(t) for t in truth.values())
    edge_n = len(DEVICES) * 4 * (86400 // 60 + 1)

    rows = []
    for eps in EPSILONS:
        day_eps = eps * VALUES_PER_DAY if eps else None
        # export
        rel = {s: (export(a, dbs[s], eps, a.days, f"bench-{eps}-{s}", work) if eps
                   else exact_export(acc[s])) for s in seeds}
        figs = [export_figures(rel[s], acc[s], a.days) for s in test_seeds]
        feats = {s: export_features(rel[s], a.days) for s in seeds}
        full, base = adversary_gain(feats, truth, train_seeds, test_seeds)
        rows.append(("export", eps, day_eps, [mean([f[i] for f in figs]) for i in range(3)],
                     full, base))
        # edge
        noised = {}
        for s in seeds:
            out = run(sim_args(a, s, a.days) + (["--dp-epsilon", f"{day_eps:g}"] if eps else []))
            noised[s] = hourly(out.stdout.decode().splitlines())
        eps_reading = day_eps / edge_n if eps else None
        figs = [edge_figures(noised[s], acc[s], a.days, eps_reading) for s in test_seeds]
        feats = {s: edge_features(noised[s], a.days) for s in seeds}
        full, base = adversary_gain(feats, truth, train_seeds, test_seeds)
        rows.append(("edge", eps, day_eps, [mean([f[i] for f in figs]) for i in range(3)],
                     full, base))
        print(f"privacy: epsilon {eps}: {time.time() - t0:.0f} s", file=sys.stderr)

    det = {}
    if not a.no_detect:
        for eps in EPSILONS:
            det[eps] = detection(a, work, eps * len(DEVICES) * 2 * 24 if eps else None)
            print(f"privacy: detection at {eps}: {time.time() - t0:.0f} s", file=sys.stderr)

    print(f"# {a.train} + {a.test} simulated households x {a.days} days, 3 nodes, a reading a "
          f"minute; someone home in {occupied:.0%} of the hours; adversary: logistic regression "
          f"trained on {a.train}, scored on {a.test}")
    print("| released | epsilon per value | home's epsilon a day | MAE hourly temp (C) |"
          " MAE daily temp (C) | MAE hourly motion count | detector: caught, false alarms per"
          " device-day | adversary AUC | hour-of-day AUC | gain |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for what, eps, day_eps, (eh, ed, em), full, base in rows:
        if a.no_detect:
            d = "-"
        else:
            caught, events, fa = det[eps if what == "edge" else None]
            d = f"{caught}/{events}, {fa:.2f}"
        name = "export (hourly aggregates)" if what == "export" else "edge (every reading)"
        print(f"| {name} | {eps if eps else 'no noise'} | {f'{day_eps:g}' if day_eps else '-'} |"
              f" {eh:.3g} | {ed:.3g} | {em:.3g} | {d} | {full:.3f} | {base:.3f} |"
              f" {full - base:+.3f} |")
    print(f"# {time.time() - t0:.0f} s; files in {work}")


if __name__ == "__main__":
    main()
