#!/usr/bin/env python3
"""iots-act: incident open -> command published, p50/p99, at a steady 1,000 readings/s (issue 17:
p99 under 5 ms).

Over a real mosquitto on a free loopback port (examples/mosquitto/iotshield.conf): iots-act
--input mqtt with a rule that closes esp32-livingroom's valve on a gas leak, and one with `if
empty` that makes it also subscribe to <prefix>/sensors/+/motion. The load: motion readings at
--rate readings/s on iotshield/sensors/load/motion, which iots-act reads and keeps (the home-empty
bookkeeping). The node: iots-sim --actuators (one device, esp32-livingroom), which answers each
command at once, so that the rule is free again for the next incident. Every --every ms the bench
publishes an alert opening a new incident (gas-leak, HIGH) on iotshield/alerts/esp32-livingroom;
its latency is from the write of its line to mosquitto_pub until the command is read from
iotshield/control/esp32-livingroom by a subscriber. The same subscriber also receives the alert:
that hop (publisher -> broker -> subscriber) is shown as the floor, and the command's arrival
after the alert's at the same subscriber as what iots-act adds (its own hop to the broker and
back included).

Usage: bench/act_latency.py [--bin build/tools] [--seconds 20] [--rate 1000] [--every 100]
Prints a table; never run by the tests.
"""
import argparse
import json
import os
import signal
import subprocess
import tempfile
import threading
import time

from benchlib import free_port, pct, wait_port

HERE = os.path.dirname(os.path.abspath(__file__))


def start_broker(tmp):
    port = free_port()
    conf = os.path.join(tmp, "mosquitto.conf")
    with open(os.path.join(HERE, "..", "examples", "mosquitto", "iotshield.conf")) as f:
        lines = f.read().splitlines()
    out = []
    for ln in lines:
        if ln.startswith("listener 1883"):
            ln = f"listener {port} 127.0.0.1"
        elif ln.startswith("persistence "):
            ln = "persistence false"
        elif ln.startswith("autosave_interval"):
            continue
        out.append(ln)
    if os.getuid() == 0:
        out.append("user root")
    with open(conf, "w") as f:
        f.write("\n".join(out) + "\n")
    proc = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc, port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "build", "tools"))
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--every", type=int, default=100, help="ms between incidents")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="iots-bench-act-")
    broker, port = start_broker(tmp)
    b = ["-h", "127.0.0.1", "-p", str(port)]
    tool = lambda name: os.path.join(a.bin, name)
    devnull = subprocess.DEVNULL
    rules = os.path.join(tmp, "bench.rules")
    with open(rules, "w") as f:
        f.write("when gas-leak do esp32-livingroom valve close confirm 2s retries 0\n"
                "when intrusion do esp32-livingroom buzzer on if empty 1h\n")
    act_err = open(os.path.join(tmp, "act.err"), "w")
    act = subprocess.Popen([tool("iots-act"), *b, "--input", "mqtt", "--rules", rules],
                           stdout=devnull, stderr=act_err)
    sim = subprocess.Popen([tool("iots-sim"), *b, "--actuators", "--realtime", "--devices", "1",
                            "--interval", "1d", "--quiet-log"], stdout=devnull, stderr=devnull)
    sub = subprocess.Popen(["mosquitto_sub", *b, "-t", "iotshield/control/esp32-livingroom", "-t",
                            "iotshield/alerts/esp32-livingroom", "-v"], stdout=subprocess.PIPE,
                           stderr=devnull, bufsize=0)
    time.sleep(2.0)  # every subscription made, the node online
    load = subprocess.Popen(["mosquitto_pub", *b, "--nodelay", "-t", "iotshield/sensors/load/motion",
                             "-l"], stdin=subprocess.PIPE, stderr=devnull)
    alerts = subprocess.Popen(["mosquitto_pub", *b, "--nodelay", "-t",
                               "iotshield/alerts/esp32-livingroom", "-l"], stdin=subprocess.PIPE,
                              stderr=devnull)
    sent, floor, got = [], [], []

    def reader():
        buf = b""
        fd = sub.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            now = time.perf_counter()
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for ln in lines:
                if ln.startswith(b"iotshield/control/") and b'"kind":"command"' in ln:
                    got.append(now)
                elif ln.startswith(b"iotshield/alerts/") and b'"kind":"alert"' in ln \
                        and b'"source":"bench"' in ln:
                    floor.append(now)

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    n = int(a.seconds * a.rate)
    per_incident = max(1, a.rate * a.every // 1000)
    t0 = time.perf_counter()
    start_ms = int(time.time() * 1000)
    k = 0
    for i in range(n):
        target = t0 + i / a.rate
        d = target - time.perf_counter()
        if d > 0:
            time.sleep(d)
        ts = start_ms + i
        if i % per_incident == per_incident // 2:
            k += 1
            rec = {"kind": "alert", "id": f"b-{k}.1", "ts": ts, "device": "esp32-livingroom",
                   "sensor": "gas", "severity": "HIGH", "incident": f"b-{k}", "source": "bench",
                   "event": "open", "location": "livingroom", "pattern": "gas-leak"}
            sent.append(time.perf_counter())
            alerts.stdin.write((json.dumps(rec, separators=(",", ":")) + "\n").encode())
            alerts.stdin.flush()
        else:
            rec = {"ts": ts, "device": f"node-{i % 50}", "sensor": "motion", "value": 0,
                   "location": f"room-{i % 50}"}
            load.stdin.write((json.dumps(rec, separators=(",", ":")) + "\n").encode())
            load.stdin.flush()
    time.sleep(2.0)
    for p in (load, alerts):
        p.stdin.close()
        p.wait()
    for p in (act, sim):
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    sub.terminate()
    sub.wait()
    broker.terminate()
    broker.wait()
    act_err.close()
    counters = open(os.path.join(tmp, "act.err")).read().strip().splitlines()
    pairs = min(len(sent), len(got))
    lat = [(got[i] - sent[i]) * 1000 for i in range(pairs)]
    fl = [(floor[i] - sent[i]) * 1000 for i in range(min(len(sent), len(floor)))]
    print(f"iots-act at {a.rate} readings/s for {a.seconds:.0f} s, an incident every {a.every} ms")
    print(f"| what | n | p50 ms | p99 ms | max ms |")
    print(f"|---|---|---|---|---|")
    if fl:
        print(f"| alert published -> alert received (floor) | {len(fl)} | {pct(fl, 50):.2f} | "
              f"{pct(fl, 99):.2f} | {max(fl):.2f} |")
    if lat:
        print(f"| incident open (alert published) -> command received | {len(lat)} | "
              f"{pct(lat, 50):.2f} | {pct(lat, 99):.2f} | {max(lat):.2f} |")
    added = [(got[i] - floor[i]) * 1000 for i in range(min(len(got), len(floor)))]
    if added:
        print(f"| alert received -> command received (what iots-act adds) | {len(added)} | "
              f"{pct(added, 50):.2f} | {pct(added, 99):.2f} | {max(added):.2f} |")
    print(f"incidents {len(sent)}, commands {len(got)}"
          + ("" if len(sent) == len(got) else "  (MISMATCH: latencies paired in order)"))
    if counters:
        print(counters[-1])


if __name__ == "__main__":
    main()
