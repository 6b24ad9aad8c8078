#!/usr/bin/env python3
"""bench/privacy_export.py -- FIRST VERSION of issue 14's privacy-utility table, for iots-export
only (no edge noise yet, and occupancy is approximated; see below). Prints a table; never run by
the test suite.

For each epsilon it simulates households with iots-sim (readings every 60 s), stores them with
iots-ingest, releases a week of hourly aggregates with iots-export (temperature: clamped mean over
[10, 35] C, Laplace; motion: count of active minutes clamped to 60, Laplace; each at that epsilon)
and compares them with the exact aggregates computed from the same database:

- utility: the mean absolute error of the hourly temperature mean, of the daily temperature mean
  (the average of the day's 24 released hourly means), and of the hourly motion count;
- privacy: how well an adversary who sees the released motion counts ranks the hours with motion
  above the hours without (ROC AUC of the released count as a score), against an adversary who
  knows only the hour of day (AUC of the fraction of days with motion at that hour, learnt on
  another simulated household). The two are printed apart: an adversary that combines them is
  not measured yet, so the issue's "gain over the hour-of-day guess" is not either. "Someone home" is approximated by "motion in the hour": the
  simulator's occupancy itself is not in its output.

Usage: bench/privacy_export.py [--days 7] [--households 2] (tools on PATH or in $IOTS_BIN)
"""
import argparse
import json
import os
import sqlite3
import subprocess
import tempfile

EPSILONS = [0.1, 0.5, 1, 2, 5]
HOUR = 3600000


def tool(name):
    b = os.environ.get("IOTS_BIN")
    return os.path.join(b, name) if b else name


def simulate(db, seed, days):
    sim = subprocess.Popen([tool("iots-sim"), "--devices", "2", "--interval", "60s",
                            "--duration", f"{days}d", "--seed", str(seed),
                            "--start", "2025-10-06T00:00:00Z"], stdout=subprocess.PIPE)
    subprocess.run([tool("iots-ingest"), "--db", db, "--quiet", "--quiet-log"],
                   stdin=sim.stdout, check=True, stdout=subprocess.DEVNULL)
    sim.wait()


def truth(db):
    """{(device, sensor, window_start_ms): (clamped mean, active count)} of the exact data."""
    con = sqlite3.connect(db)
    q = """SELECT d.name, s.name, r.ts / 3600000 * 3600000 AS w,
                  avg(max(10, min(35, r.value))), sum(r.value != 0)
           FROM readings r JOIN series x ON x.id = r.series_id
           JOIN devices d ON d.id = x.device_id JOIN sensors s ON s.id = x.sensor_id
           WHERE s.name IN ('temperature', 'motion') GROUP BY d.name, s.name, w"""
    return {(d, s, w): (m, c) for d, s, w, m, c in con.execute(q)}


def release(db, eps, days, dest):
    policy = {"window": "1h", "budget": {"epsilon_per_day": 1e6},
              "sensors": {"temperature": {"release": "mean", "range": [10, 35], "epsilon": eps},
                          "motion": {"release": "count", "max_count": 60, "epsilon": eps}}}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(policy, f)
    out = subprocess.run([tool("iots-export"), "--db", db, "--policy", f.name,
                          "--destination", dest, "--since", "2025-10-06T00:00:00Z",
                          "--until", f"2025-10-{6 + days:02d}T00:00:00Z", "--quiet-log"],
                         check=True, capture_output=True, text=True).stdout
    os.unlink(f.name)
    recs = {}
    from datetime import datetime
    for line in out.splitlines():
        r = json.loads(line)
        w = int(datetime.fromisoformat(r["window_start"].replace("Z", "+00:00")).timestamp() * 1000)
        recs[(r["device"], r["sensor"], w)] = r.get("mean", r.get("count"))
    return recs


def auc(pos, neg):
    """P(score of a positive > score of a negative) + half the ties (Mann-Whitney)."""
    if not pos or not neg:
        return float("nan")
    allv = sorted([(v, 1) for v in pos] + [(v, 0) for v in neg])
    rank, i, rsum = 1, 0, 0.0
    while i < len(allv):
        j = i
        while j < len(allv) and allv[j][0] == allv[i][0]:
            j += 1
        avg = (rank + rank + (j - i) - 1) / 2
        rsum += avg * sum(1 for k in range(i, j) if allv[k][1] == 1)
        rank += j - i
        i = j
    return (rsum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--households", type=int, default=2)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="iots-bench-privacy-")
    homes = []
    for h in range(a.households + 1):  # the last one trains the hour-of-day adversary
        db = os.path.join(work, f"home{h}.db")
        simulate(db, 100 + h, a.days)
        homes.append((db, truth(db)))
    # Hour-of-day prior from the other household.
    prior = {}
    for (d, s, w), (m, c) in homes[-1][1].items():
        if s == "motion":
            hour = (w // HOUR) % 24
            n, k = prior.get(hour, (0, 0))
            prior[hour] = (n + 1, k + (1 if c > 0 else 0))
    base_pos, base_neg = [], []
    for db, t in homes[:-1]:
        for (d, s, w), (m, c) in t.items():
            if s == "motion":
                n, k = prior.get((w // HOUR) % 24, (1, 0))
                (base_pos if c > 0 else base_neg).append(k / n)
    base = auc(base_pos, base_neg)
    print(f"# iots-export, hourly windows, {a.households} household(s) x {a.days} days, 2 devices;"
          f" first version (issue 14)")
    print(f"# hour-of-day adversary AUC: {base:.3f}")
    print("| epsilon per value | day's epsilon per destination | MAE hourly temp (C) |"
          " MAE daily temp (C) | MAE hourly motion count | AUC from the releases alone |")
    print("|---|---|---|---|---|---|")
    for eps in EPSILONS:
        e_h, e_d, e_m, pos, neg = [], [], [], [], []
        for i, (db, t) in enumerate(homes[:-1]):
            rel = release(db, eps, a.days, f"bench-{eps}-{i}")
            days = {}
            for key, (m, c) in t.items():
                d, s, w = key
                if key not in rel:
                    continue
                if s == "temperature":
                    e_h.append(abs(rel[key] - m))
                    days.setdefault((d, w // (24 * HOUR)), []).append((rel[key], m))
                else:
                    e_m.append(abs(rel[key] - c))
                    (pos if c > 0 else neg).append(rel[key])
            for v in days.values():
                e_d.append(abs(sum(x for x, _ in v) / len(v) - sum(y for _, y in v) / len(v)))
        day_eps = 2 * 24 * 2 * eps  # 2 devices x 24 hours x 2 sensors
        adv = auc(pos, neg)
        print(f"| {eps} | {day_eps:g} | {sum(e_h)/len(e_h):.2f} | {sum(e_d)/len(e_d):.2f} |"
              f" {sum(e_m)/len(e_m):.1f} | {adv:.3f} |")
    print("| no noise | - | 0 | 0 | 0 | 1.000 |")
    print("# Not yet: an adversary combining the releases with the hour of day (a classifier trained"
          " on other households), the detector on edge-noised readings, per-reading edge noise.")


if __name__ == "__main__":
    main()
