#!/usr/bin/env python3
"""Anomaly in -> alert out: latency (p50, p99) and throughput of iots-alert with the rules
narrator, alone, with --db, and with a language model that is slow or dead (which must change
neither figure, since the model's text only follows as a later update).

Usage: bench/alert_latency.py [--bin build/tools] [--n 2000] [--burst 20000]
Prints a table. Latency is measured one reading at a time through pipes, from the write of the
line to the read of its alert; the same round trip through `cat` is shown as the floor that the
pipes and this script add.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

from benchlib import free_port, pct

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, "..", "tests", "fake", "llm_server.py")
T0 = 1761400000000


def line(i):
    # 100 devices in turn, 10 s apart: each reading opens a new incident of its device (the one
    # before was 1000 s ago, past the window) and resolves one older incident.
    return json.dumps({"ts": T0 + i * 10_000, "device": f"dev-{i % 100}", "sensor": "flame",
                       "value": 1, "location": "kitchen", "score": 0.99, "anomaly": True,
                       "reasons": ["threshold:flame"]}) + "\n"


def latency(cmd, n, is_cat=False):
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, bufsize=0)
    out = proc.stdout
    buf = b""
    lat = []
    for i in range(n):
        data = line(i).encode()
        want = f'"device":"dev-{i % 100}"'.encode()
        t = time.perf_counter_ns()
        proc.stdin.write(data)
        while True:
            nl = buf.find(b"\n")
            if nl < 0:
                chunk = os.read(out.fileno(), 65536)
                if not chunk:
                    raise SystemExit(f"{cmd[0]} ended early")
                buf += chunk
                continue
            got, buf = buf[:nl], buf[nl + 1:]
            if is_cat or (want in got and b'"event":"open"' in got):
                break
        lat.append((time.perf_counter_ns() - t) / 1e6)
    # SIGTERM, not EOF: at EOF iots-alert would wait for a slow model to finish its queue.
    proc.terminate()
    proc.wait()
    return pct(lat, 50), pct(lat, 99), max(lat)


def throughput(cmd, n, expect=None):
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, bufsize=0)
    payload = "".join(line(i) for i in range(n)).encode()

    def writer():
        proc.stdin.write(payload)
        if expect is None:
            proc.stdin.close()

    t = time.perf_counter()
    th = threading.Thread(target=writer)
    th.start()
    count = 0
    while True:
        chunk = proc.stdout.read(1 << 16)
        if not chunk:
            break
        count += chunk.count(b"\n")
        if expect is not None and count >= expect:
            break
    dt = time.perf_counter() - t
    th.join()
    proc.terminate()
    proc.wait()
    return count, count / dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "build", "tools"))
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--burst", type=int, default=20000)
    a = ap.parse_args()
    alert = os.path.join(a.bin, "iots-alert")
    tmp = tempfile.mkdtemp(prefix="iots-bench-alert-")
    port_file = os.path.join(tmp, "port")
    fake = subprocess.Popen([sys.executable, FAKE, "--port-file", port_file, "--log",
                             os.path.join(tmp, "req.log"), "--mode", "slow", "--delay", "30"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not os.path.exists(port_file):
        time.sleep(0.05)
    slow_url = f"http://127.0.0.1:{open(port_file).read()}"
    dead_url = f"http://127.0.0.1:{free_port()}"
    env_key = {"GEMINI_API_KEY": "bench-not-a-key"}
    os.environ.update(env_key)
    base = [alert, "--replay", "--quiet-log"]
    runs = [
        ("cat (pipe floor)", ["cat"], True),
        ("rules", base, False),
        ("rules + --db", base + ["--db", os.path.join(tmp, "a.db")], False),
        ("rules + slow gemini (30 s)", base + ["--narrator", "gemini", "--gemini-url", slow_url,
                                               "--llm-timeout", "60s"], False),
        ("rules + dead gemini", base + ["--narrator", "gemini", "--gemini-url", dead_url], False),
    ]
    print(f"iots-alert latency, anomaly in -> alert out, {a.n} readings one at a time; "
          f"throughput over a burst of {a.burst}")
    print(f"{'configuration':<30} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'alerts/s':>10}")
    expect = None
    for name, cmd, is_cat in runs:
        if not is_cat and os.path.exists(os.path.join(tmp, "a.db")):
            os.remove(os.path.join(tmp, "a.db"))
        p50, p99, mx = latency(cmd, a.n, is_cat)
        if is_cat:
            print(f"{name:<30} {p50:8.3f} {p99:8.3f} {mx:8.3f} {'':>10}")
            continue
        if os.path.exists(os.path.join(tmp, "a.db")):
            os.remove(os.path.join(tmp, "a.db"))
        count, rate = throughput(cmd, a.burst, expect)
        expect = expect or count  # the rules run's count: the others must give the same
        print(f"{name:<30} {p50:8.3f} {p99:8.3f} {mx:8.3f} {rate:10.0f}")
    fake.terminate()
    fake.wait()


if __name__ == "__main__":
    main()
