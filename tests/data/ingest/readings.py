#!/usr/bin/env python3
"""Helpers for the iots-ingest end-to-end tests (stdlib only).

  readings.py gen N [DEVICES] [START_SEQ]  N readings as NDJSON on stdout, deterministic
  readings.py compare DB FILE               every reading of FILE stored exactly once in DB,
                                            field by field; exit 1 with the first difference
  readings.py same A B                      the same JSON objects line by line (18.0 == 18)
"""
import json
import sqlite3
import sys
from datetime import datetime, timezone

KINDS = [("temperature", "C", 21.0), ("humidity", "%", 45.0), ("gas", "ppm", 400.0),
         ("flame", "0/1", 0.0), ("motion", "0/1", 1.0), ("light", "lux", 300.0)]


def rfc3339(ms):
    t = datetime.fromtimestamp(ms / 1000, timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def gen(n, devices=3, start=0):
    t0 = 1761410712000
    for i in range(start, start + n):
        dev = f"esp32-{i % devices:02d}"
        kind, unit, base = KINDS[(i // devices) % len(KINDS)]
        value = base if unit == "0/1" else round(base + (i % 17) * 0.37 - 3, 3)
        r = {"ts": rfc3339(t0 + i * 250), "device": dev, "sensor": kind, "value": value,
             "unit": unit, "seq": i, "location": f"room-{i % devices}", "label": "normal"}
        print(json.dumps(r, separators=(",", ":")), flush=True)


def compare(db, path):
    want = {}
    for line in open(path):
        if line.strip():
            r = json.loads(line)
            want[(r["device"], r["sensor"], r["seq"])] = r
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT d.name, s.name, r.ts, r.value, r.seq, r.label, s.unit, d.location FROM readings r "
        "JOIN series se ON se.id = r.series_id JOIN devices d ON d.id = se.device_id "
        "JOIN sensors s ON s.id = se.sensor_id").fetchall()
    seen = set()
    for dev, sensor, ts, value, seq, label, unit, location in rows:
        key = (dev, sensor, seq)
        if key in seen:
            sys.exit(f"stored twice: {key}")
        seen.add(key)
        r = want.get(key)
        if r is None:
            sys.exit(f"stored but never sent: {key}")
        got = {"ts": rfc3339(ts), "device": dev, "sensor": sensor, "value": value, "unit": unit,
               "seq": seq, "location": location, "label": label}
        for field in r:
            if r[field] != got[field]:
                sys.exit(f"{key}: {field}: sent {r[field]!r}, stored {got[field]!r}")
    missing = set(want) - seen
    if missing:
        sys.exit(f"{len(missing)} readings lost, e.g. {sorted(missing)[:3]}")
    total = con.execute("SELECT value FROM stats WHERE key = 'total_readings'").fetchone()
    if total is None or total[0] != len(rows):
        sys.exit(f"stats total_readings {total} != {len(rows)} rows")
    counts = con.execute("SELECT sum(count) FROM series").fetchone()[0]
    if counts != len(rows):
        sys.exit(f"series counts sum to {counts}, not {len(rows)}")
    print(len(rows))


def same(a, b):
    la = [json.loads(x) for x in open(a) if x.strip()]
    lb = [json.loads(x) for x in open(b) if x.strip()]
    if len(la) != len(lb):
        sys.exit(f"{len(la)} lines in {a}, {len(lb)} in {b}")
    for i, (x, y) in enumerate(zip(la, lb), 1):
        if x != y:
            sys.exit(f"line {i}: {x} != {y}")


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(int(sys.argv[2]), *(int(a) for a in sys.argv[3:]))
    elif sys.argv[1] == "same":
        same(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
