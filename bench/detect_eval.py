#!/usr/bin/env python3
"""Detection quality on iots-sim data: train on incident-free days, detect on other days (another
seed) with every incident kind injected several times, and print per kind the event recall, the
median detection delay and the false alarms per device-day.

  bench/detect_eval.py --bin build/tools                  # the issue's setting: 14 d + 14 d
  bench/detect_eval.py --bin build/tools --train-days 2 --detect-days 2 --repeats 1 \
      --min-recall 0.8 --max-fa 3                          # what tests/e2e/detect_eval.sh runs

Definitions (issue 3):
- an incident is one run of readings of a device labelled with one kind (consecutive ticks; the
  run may touch several sensors); it is caught when any reading inside it is flagged anomalous;
- delay: ticks (reading intervals) from the incident's first labelled reading to its first
  flagged one, 0 = flagged at once; reported as the median over caught incidents;
- a false alarm: flagged readings labelled normal, where flags of one device in consecutive ticks
  count as one; reported per device-day.
Exit status 1 when --min-recall / --max-fa / --max-delay are given and not met.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

KINDS = ["fire", "gas-leak", "intrusion", "hvac-failure", "sensor-stuck", "sensor-spike",
         "sensor-dropout"]


def run(cmd, stdin=None, stdout=None):
    r = subprocess.run(cmd, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, check=False)
    if r.returncode != 0:
        sys.exit(f"detect_eval: {' '.join(cmd)} failed ({r.returncode}): {r.stderr.decode()[-2000:]}")
    return r.stderr.decode()


def rfc3339_ms(s):
    # "2025-10-06T00:00:05.000Z" -> epoch ms (UTC), without datetime's overhead per line.
    import calendar
    y, mo, d = int(s[0:4]), int(s[5:7]), int(s[8:10])
    h, mi, sec = int(s[11:13]), int(s[14:16]), int(s[17:19])
    ms = int(s[20:23]) if len(s) > 20 and s[19] == "." else 0
    return (calendar.timegm((y, mo, d, h, mi, sec)) * 1000) + ms


def evaluate(scored_path, interval_ms, devices, days):
    # Per device: labelled runs and flagged normal readings.
    events = {}      # (device, kind) -> list of [start_ts, last_ts, first_flag_ts or None]
    fa_last = {}     # device -> ts of the last flagged normal reading
    fa = 0
    tol = 30 * 60 * 1000  # the labelled runs of one incident (spikes, several sensors) merge
    with open(scored_path, "rb") as f:
        for line in f:
            r = json.loads(line)
            dev = r["device"]
            ts = rfc3339_ms(r["ts"])
            label = r.get("label", "normal")
            flagged = r.get("anomaly", False)
            if label != "normal":
                runs = events.setdefault((dev, label), [])
                if runs and ts - runs[-1][1] <= tol:
                    e = runs[-1]
                    e[1] = max(e[1], ts)
                else:
                    e = [ts, ts, None]
                    runs.append(e)
                if flagged and e[2] is None:
                    e[2] = ts
            elif flagged:
                last = fa_last.get(dev)
                if last is None or ts - last > interval_ms:
                    fa += 1
                fa_last[dev] = ts
    table = {}
    for (dev, kind), runs in events.items():
        t = table.setdefault(kind, {"events": 0, "caught": 0, "delays": []})
        for start, _, first in runs:
            t["events"] += 1
            if first is not None:
                t["caught"] += 1
                t["delays"].append((first - start) // interval_ms)
    return table, fa / (devices * days)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="directory of the built tools")
    ap.add_argument("--devices", type=int, default=3)
    ap.add_argument("--train-days", type=float, default=14)
    ap.add_argument("--detect-days", type=float, default=14)
    ap.add_argument("--repeats", type=int, default=3, help="incidents of each kind")
    ap.add_argument("--train-seed", type=int, default=1)
    ap.add_argument("--detect-seed", type=int, default=2)
    ap.add_argument("--train-args", default="", help="extra iots-train options")
    ap.add_argument("--no-model", action="store_true", help="streaming checks only")
    ap.add_argument("--min-recall", type=float)
    ap.add_argument("--max-fa", type=float)
    ap.add_argument("--max-delay", type=float, help="for fire and gas-leak (median, ticks)")
    ap.add_argument("--keep", help="keep the files in this directory")
    a = ap.parse_args()
    tools = os.path.abspath(a.bin)
    work = a.keep or tempfile.mkdtemp(prefix="iots-detect-eval-")
    os.makedirs(work, exist_ok=True)
    interval = 5000
    train = os.path.join(work, "train.ndjson")
    model = os.path.join(work, "model.iotsmodel")
    scored = os.path.join(work, "scored.ndjson")

    t0 = time.time()
    with open(train, "wb") as out:
        run([f"{tools}/iots-sim", "--devices", str(a.devices), "--duration", f"{int(a.train_days * 24)}h",
             "--seed", str(a.train_seed)], stdout=out)
    summary = ""
    if not a.no_model:
        with open(train, "rb") as inp:
            summary = run([f"{tools}/iots-train", "--model", model] + a.train_args.split(), stdin=inp)
    # Incidents spread evenly over the detection span, kinds interleaved, devices in turn.
    n = len(KINDS) * a.repeats
    span_min = a.detect_days * 24 * 60
    incidents = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        offset = int((i + 0.5) * span_min / n)
        dev = f"esp32-{['livingroom', 'kitchen', 'bedroom', 'hallway', 'office', 'garage'][i % a.devices]}"
        incidents += ["--incident", f"{kind}@{offset}m/{dev}"]
    sim = subprocess.Popen([f"{tools}/iots-sim", "--devices", str(a.devices), "--duration",
                            f"{int(a.detect_days * 24)}h", "--seed", str(a.detect_seed)] + incidents,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with open(scored, "wb") as out:
        det = ["--quiet-log"] + ([] if a.no_model else ["--model", model])
        run([f"{tools}/iots-detect"] + det, stdin=sim.stdout, stdout=out)
    sim.wait()
    if sim.returncode != 0:
        sys.exit(f"detect_eval: iots-sim failed: {sim.stderr.read().decode()[-2000:]}")
    table, fa = evaluate(scored, interval, a.devices, a.detect_days)

    ok = True
    print(f"detection on {a.devices} devices x {a.detect_days:g} days (seed {a.detect_seed}), "
          f"model trained on {a.train_days:g} incident-free days (seed {a.train_seed})"
          + (" -- no model" if a.no_model else ""))
    print(f"{'incident':<16}{'events':>7}{'caught':>7}{'recall':>8}{'median delay':>14}")
    for kind in KINDS:
        t = table.get(kind, {"events": 0, "caught": 0, "delays": []})
        rec = t["caught"] / t["events"] if t["events"] else float("nan")
        med = statistics.median(t["delays"]) if t["delays"] else float("nan")
        print(f"{kind:<16}{t['events']:>7}{t['caught']:>7}{rec:>8.2f}{med:>14.1f}")
        if a.min_recall is not None and t["events"] and rec < a.min_recall:
            ok = False
        if a.min_recall is not None and not t["events"]:
            print(f"detect_eval: no {kind} incident in the data", file=sys.stderr)
            ok = False
        if (a.max_delay is not None and kind in ("fire", "gas-leak") and t["delays"]
                and med > a.max_delay):
            ok = False
    print(f"false alarms per device-day: {fa:.2f}")
    print(f"({time.time() - t0:.0f} s; files in {work})")
    if a.max_fa is not None and fa > a.max_fa:
        ok = False
    if os.environ.get("DETECT_EVAL_SUMMARY"):
        sys.stderr.write(summary)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
