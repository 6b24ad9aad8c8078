#!/usr/bin/env python3
"""Hostile inputs for iots-ingest (tests/e2e/ingest_hostile.sh), each with the reason expected.

  hostile.py stdin DIR   DIR/stdin.ndjson: good readings with each hostile case between them;
                         DIR/stdin.expect: "LINE<TAB>reason substring" per case (blank: skipped)
  hostile.py mqtt DIR    DIR/NN.payload files and DIR/mqtt.list "FILE<TAB>TOPIC<TAB>reason",
                         in publishing order, good readings among them
  hostile.py check DB    every good reading stored exactly once in DB, each field as sent
                         (unknown fields as their JSON text); prints the count
"""
import json
import os
import sqlite3
import sys
from datetime import datetime, timezone

T0 = 1761410712000
TS = "2025-10-25T16:45:12.000Z"
MiB = 1 << 20


def rec(**fields):
    base = {"ts": TS, "device": "esp32-hostile", "sensor": "gas", "value": 1}
    base.update(fields)
    return json.dumps(base, separators=(",", ":"), ensure_ascii=False).encode()


def raw(text):
    return text.encode()


# (name, payload bytes, reason substring on stdin, reason substring over MQTT). None: the same.
# Accepted cases (stored verbatim) are in ACCEPTED below, not here.
CASES = [
    ("empty", b"", "", "empty"),  # a blank line is no record; an empty payload is rejected
    ("binary", b"\x00\x01\xff\xfe\x80garbage\x7f\xc3\x28", "not a JSON object", None),
    ("binary-in-string", rec(location="x").replace(b'"x"', b'"\xff\xfe"'), "not valid UTF-8",
     None),
    ("ten-mib", rec(pad="x" * (10 * MiB)), "longer than 1048576 bytes (--max-line-bytes)", None),
    ("nested-array", raw('{"ts":"%s","device":"esp32-hostile","sensor":"gas","value":1,"x":%s%s}'
                         % (TS, "[" * 100000, "]" * 100000)), "not valid JSON", None),
    ("nested-object", raw('%s1%s' % ('{"a":' * 50000, "}" * 50000)), "not valid JSON", None),
    ("duplicate-key", raw('{"ts":"%s","device":"esp32-hostile","sensor":"gas","value":1,'
                          '"value":2}' % TS), 'duplicate field "value"', None),
    ("duplicate-device", raw('{"ts":"%s","device":"esp32-hostile","device":"esp32-other",'
                             '"sensor":"gas","value":1}' % TS), 'duplicate field "device"', None),
    ("nan", raw('{"ts":"%s","device":"esp32-hostile","sensor":"gas","value":NaN}' % TS),
     "value: not a finite number", None),
    ("infinity", raw('{"ts":"%s","device":"esp32-hostile","sensor":"gas","value":Infinity}' % TS),
     "value: not a finite number", None),
    ("minus-infinity", raw('{"ts":"%s","device":"esp32-hostile","sensor":"gas","value":-Infinity}'
                           % TS), "value: not a finite number", None),
    ("nan-string", rec(value="NaN"), "value: expected a number, got a string", None),
    ("huge-value", raw('{"ts":"%s","device":"esp32-hostile","sensor":"gas","value":1e400}' % TS),
     "value: not a finite number", None),
    ("huge-in-range", rec(sensor="temperature", value=1e300),
     "value: 1e+300 is out of range for temperature", None),
    ("huge-seq", raw('{"ts":"%s","device":"esp32-hostile","sensor":"gas","value":1,'
                     '"seq":184467440737095516160}' % TS), "seq: expected a non-negative integer",
     None),
    ("negative-seq", rec(seq=-1), "seq: expected a non-negative integer", None),
    ("huge-ts", raw('{"ts":99999999999999999999999,"device":"esp32-hostile","sensor":"gas",'
                    '"value":1}'), "ts: not an integer of epoch milliseconds", None),
    ("negative-ts", rec(ts=-1), "is before 2000-01-01", None),
    ("epoch-zero", rec(ts=0), "is before 2000-01-01", None),
    ("far-future-ts", rec(ts="9999-12-31T23:59:59.999Z"), "ahead of this host's clock", None),
    ("year-10000", rec(ts=253402300800000), "ts: outside the years 0001 to 9999", None),
    ("device-newline", rec(device="esp32\nkitchen"), "device: must be 1-64 characters", None),
    ("device-bell", rec(device="esp32\u0007kitchen"), "device: must be 1-64 characters", None),
    ("device-nul", rec(device="esp32\u0000kitchen"), "device: must be 1-64 characters", None),
    ("device-escape", rec(device="esp32\u001b[31mkitchen"), "device: must be 1-64 characters",
     None),
    ("device-cyrillic-i", rec(device="esp32-k\u0456tchen"), "device: must be 1-64 characters",
     None),
    ("device-fullwidth", rec(device="\uff45\uff53\uff50\uff13\uff12"),
     "device: must be 1-64 characters", None),
    ("device-zero-width", rec(device="esp32\u200b-kitchen"), "device: must be 1-64 characters",
     None),
    ("device-rtl-override", rec(device="esp32\u202e-kitchen"), "device: must be 1-64 characters",
     None),
    ("device-too-long", rec(device="d" * 65), "device: must be 1-64 characters", None),
    ("sensor-cyrillic-a", rec(sensor="temper\u0430ture"), "sensor: must be 1-64 characters",
     None),
    ("sensor-tab", rec(sensor="gas\t"), "sensor: must be 1-64 characters", None),
    ("device-sql", rec(device="x'; DROP TABLE readings;--"), "device: must be 1-64 characters",
     None),
    ("sensor-sql", rec(sensor="gas\" OR 1=1 --"), "sensor: must be 1-64 characters", None),
    ("device-html", rec(device="<script>alert(1)</script>"), "device: must be 1-64 characters",
     None),
    ("label-sql", rec(label="normal'; DROP TABLE readings;--"), "label: unknown incident kind",
     None),
    ("label-html", rec(label="<b>fire</b>"), "label: unknown incident kind", None),
    ("label-control", rec(label="fire\u001b"), "label: unknown incident kind", None),
    ("location-control", rec(location="kitchen\u001b[2J"),
     "location: control characters are not allowed", None),
    ("location-nul", rec(location="kit\u0000chen"),
     "location: control characters are not allowed", None),
    ("unit-newline", rec(unit="ppm\n"), "unit: control characters are not allowed", None),
    ("unit-sql", rec(unit="ppm'); DROP TABLE sensors;--"), "unit: longer than 16 bytes", None),
    ("not-object", raw("[1,2,3]"), "not a JSON object", None),
    ("json-string", raw('"{\\"ts\\":1}"'), "not a JSON object", None),
    ("trailing", raw('{"ts":"%s","device":"esp32-hostile","sensor":"gas","value":1}{}' % TS),
     "text after the object", None),
]

# Accepted: SQL and HTML in the free text fields (location, extra fields), control characters in
# an extra field (kept as the JSON escapes they arrived as). Stored verbatim, never executed.
ACCEPTED = [
    rec(device="esp32-sql", seq=1, location="'); DROP TABLE readings;--"),
    rec(device="esp32-html", seq=1, location="<img src=x onerror=alert(1)>"),
    rec(device="esp32-extra", seq=1, note="<script>alert('x')</script>",
        q="1; DELETE FROM devices WHERE 1=1; --"),
    raw('{"ts":"%s","device":"esp32-ctl","sensor":"gas","value":1,"seq":1,'
        '"note":"a\\u0000b\\u001b[31mc\\nd"}' % TS),
    rec(device="esp32-unicode", seq=1, location="K\u00fcche \u2013 \u0441\u0442\u043e\u043b"),
]


def good(i):
    return rec(device="esp32-good", sensor="temperature", value=round(20 + i * 0.25, 2), seq=i,
               unit="C", location="hall", label="normal")


def cases_with_good():
    """The order both inputs use: good 0, case, good 1, case, ..., accepted, good."""
    out, i = [], 0
    for name, payload, reason_stdin, reason_mqtt in CASES:
        out.append(("good", good(i), None, None))
        i += 1
        out.append((name, payload, reason_stdin, reason_mqtt or reason_stdin))
    for payload in ACCEPTED:
        out.append(("good", payload, None, None))
    out.append(("good", good(i), None, None))
    return out


KNOWN = {"ts", "device", "sensor", "value", "unit", "seq", "location", "label"}


def check(db):
    want = {}
    for name, payload, _, _ in cases_with_good():
        if name == "good":
            r = json.loads(payload)
            want[(r["device"], r["sensor"], r["seq"])] = r
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT d.name, s.name, r.ts, r.value, r.seq, r.label, s.unit, d.location, r.extra "
        "FROM readings r JOIN series se ON se.id = r.series_id "
        "JOIN devices d ON d.id = se.device_id JOIN sensors s ON s.id = se.sensor_id").fetchall()
    seen = set()
    for dev, sensor, ts, value, seq, label, unit, location, extra in rows:
        key = (dev, sensor, seq)
        if key in seen or key not in want:
            sys.exit(f"stored twice or never sent: {key}")
        seen.add(key)
        r = want[key]
        got = {"ts": datetime.fromtimestamp(ts / 1000, timezone.utc)
               .strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts % 1000:03d}Z",
               "device": dev, "sensor": sensor, "value": value, "unit": unit, "seq": seq,
               "location": location, "label": label}
        for field in r:
            if field in KNOWN and r[field] != got[field]:
                sys.exit(f"{key}: {field}: sent {r[field]!r}, stored {got[field]!r}")
        unknown = {k: v for k, v in r.items() if k not in KNOWN}
        stored = json.loads("{" + extra + "}") if extra else {}
        if unknown != stored:
            sys.exit(f"{key}: extra fields: sent {unknown!r}, stored {extra!r}")
        if extra and any(ord(c) < 0x20 for c in extra):
            sys.exit(f"{key}: extra stored with raw control characters: {extra!r}")
    if len(seen) != len(want):
        sys.exit(f"{len(want) - len(seen)} good readings lost: {sorted(set(want) - seen)[:3]}")
    print(len(rows))


def main():
    cmd = sys.argv[1]
    if cmd == "check":
        check(sys.argv[2])
    elif cmd == "stdin":
        d = sys.argv[2]
        with open(os.path.join(d, "stdin.ndjson"), "wb") as f, \
                open(os.path.join(d, "stdin.expect"), "w") as e:
            for line, (name, payload, reason, _) in enumerate(cases_with_good(), 1):
                assert b"\n" not in payload, name
                f.write(payload + b"\n")
                if name != "good":
                    e.write(f"{line}\t{name}\t{reason}\n")
    elif cmd == "mqtt":
        d = sys.argv[2]
        with open(os.path.join(d, "mqtt.list"), "w") as e:
            for n, (name, payload, _, reason) in enumerate(cases_with_good()):
                path = os.path.join(d, f"{n:03d}.payload")
                with open(path, "wb") as f:
                    f.write(payload)
                r = json.loads(payload) if name == "good" else {}
                topic = (f"iotshield/sensors/{r['device']}/{r['sensor']}" if name == "good"
                         else "iotshield/sensors/data")
                e.write(f"{path}\t{topic}\t{name}\t{reason or ''}\n")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
