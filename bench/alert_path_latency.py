#!/usr/bin/env python3
"""The whole path for a CRITICAL reading at a steady 1,000 readings/s: publish -> broker ->
iots-ingest -> iots-detect -> iots-alert -> broker, p50/p99 (issue 4: p99 under 20 ms; a CRITICAL
reading must not wait for a batch window).

Background load: normal temperature readings of --devices devices at --rate readings/s in all.
Every --every readings one of them is instead a flame reading (value 1: CRITICAL by the safety
thresholds) of a fresh device crit-<k>, so each opens its own incident and gives exactly one alert.
Its latency is from the write of its line to the publisher until its alert is read from the broker
(mosquitto_sub on iotshield/alerts/#). The same subscriber also receives the reading itself: that
hop (publisher -> broker -> subscriber) is shown as the floor.

Two topologies over a real mosquitto on a free loopback port:
  mqtt: iots-ingest -h --db (stores, in parallel), iots-detect -h (publishes anomalies),
        iots-alert -h (anomalies in, alerts out): every tool connected to the broker.
  pipe: iots-ingest -h --db | iots-detect | iots-alert -h ... the last one would read MQTT, so here
        iots-alert reads the pipe and its stdout goes on to the broker via mosquitto_pub -l
        (--nodelay, like iots-alert's own client; without it most runs showed p99 40-50 ms and a
        max near 100 ms, by all signs Nagle's algorithm waiting for the broker's delayed ACK):
        the reading passes THROUGH iots-ingest, whose stdout follows its batch commits.

Usage: bench/alert_path_latency.py [--bin build/tools] [--pub build/bench/bench_mqtt_pub]
       [--seconds 20] [--rate 1000] [--every 100] [--topology mqtt|pipe|both]
       [--broker recommended|default]

The broker runs examples/mosquitto/iotshield.conf (set_tcp_nodelay true); --broker default drops
that line. Finding (issue 10): with set_tcp_nodelay false, the broker's sends to iots-detect, which
receives every reading at 1,000/s, were held by Nagle's algorithm until iots-detect's delayed ACK:
publishing an anomaly puts its socket in Linux's delayed-ACK ("pingpong") mode, so the anomaly left
~10 ms (p50) after the reading. mqtt::Client now asks for a quick ACK after it publishes, so either
broker setting gives the same figures.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from benchlib import free_port, pct, wait_port

HERE = os.path.dirname(os.path.abspath(__file__))


def start_broker(tmp, broker):
    """mosquitto on a free port: "recommended" is examples/mosquitto/iotshield.conf (as
    mqtt_bench.sh uses it) without persistence; "default" leaves set_tcp_nodelay at mosquitto's
    default (false), as on a broker nobody tuned."""
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
        elif ln.startswith("autosave_interval") or (
                broker == "default" and ln.startswith("set_tcp_nodelay")):
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


def run(topology, a):
    tmp = tempfile.mkdtemp(prefix=f"iots-bench-path-{topology}-")
    broker, port = start_broker(tmp, a.broker)
    b = ["-h", "127.0.0.1", "-p", str(port)]
    tool = lambda name: os.path.join(a.bin, name)
    procs = []
    devnull = subprocess.DEVNULL
    if topology == "mqtt":
        writes = ["--db", os.path.join(tmp, "h.db")] if a.all_db else []
        if a.all_db:  # the schema first, so that the other writers find the database
            subprocess.run([tool("iots-ingest"), *writes, "--quiet", "--quiet-log"],
                           stdin=devnull, check=True)
        procs.append(subprocess.Popen([tool("iots-ingest"), *b, "--db", os.path.join(tmp, "h.db"),
                                       "--quiet", "--quiet-log"], stderr=devnull))
        procs.append(subprocess.Popen([tool("iots-detect"), *b, "--anomalies-only", *writes,
                                       "--quiet-log"], stdout=devnull, stderr=devnull))
        procs.append(subprocess.Popen([tool("iots-alert"), *b, *writes, "--quiet-log"],
                                      stdout=devnull, stderr=devnull))
    else:
        ingest = subprocess.Popen([tool("iots-ingest"), *b, "--db", os.path.join(tmp, "h.db"),
                                   "--quiet-log"], stdout=subprocess.PIPE, stderr=devnull)
        detect = subprocess.Popen([tool("iots-detect"), "--quiet-log"], stdin=ingest.stdout,
                                  stdout=subprocess.PIPE, stderr=devnull)
        alert = subprocess.Popen([tool("iots-alert"), "--quiet-log"], stdin=detect.stdout,
                                 stdout=subprocess.PIPE, stderr=devnull)
        pub_alerts = subprocess.Popen(["mosquitto_pub", *b, "--nodelay", "-t", "iotshield/alerts/pipe", "-l"],
                                      stdin=alert.stdout, stderr=devnull)
        ingest.stdout.close()
        detect.stdout.close()
        alert.stdout.close()
        procs += [ingest, detect, alert, pub_alerts]
    sub = subprocess.Popen(["mosquitto_sub", *b, "-t", "iotshield/alerts/#", "-t",
                            "iotshield/sensors/data", "-t", "iotshield/anomalies/#", "-v"], stdout=subprocess.PIPE,
                           stderr=devnull, bufsize=0)
    time.sleep(1.0)  # subscriptions made
    if a.pub:
        pub = subprocess.Popen([a.pub, "127.0.0.1", str(port), "0", "iotshield/sensors/data"],
                               stdin=subprocess.PIPE, stderr=devnull)
    else:
        pub = subprocess.Popen(["mosquitto_pub", *b, "--nodelay", "-t", "iotshield/sensors/data", "-l"],
                               stdin=subprocess.PIPE, stderr=devnull)
    sent, floor, anom, got = {}, {}, {}, {}

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
                i = ln.find(b'"device":"crit-')
                if i < 0:
                    continue
                i += len(b'"device":"crit-')
                k = int(ln[i:ln.index(b'"', i)])
                if ln.startswith(b"iotshield/alerts/"):
                    if b'"event":"open"' in ln:
                        got.setdefault(k, now)
                elif ln.startswith(b"iotshield/anomalies/"):
                    anom.setdefault(k, now)
                else:
                    floor.setdefault(k, now)

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    n = int(a.seconds * a.rate)
    start_ms = int(time.time() * 1000)
    t0 = time.perf_counter()
    k = 0
    for i in range(n):
        target = t0 + i / a.rate
        d = target - time.perf_counter()
        if d > 0:
            time.sleep(d)
        ts = start_ms + i
        if i % a.every == a.every // 2:
            k += 1
            rec = {"ts": ts, "device": f"crit-{k}", "sensor": "flame", "value": 1, "unit": "0/1"}
        else:
            rec = {"ts": ts, "device": f"node-{i % a.devices}", "sensor": "temperature",
                   "value": round(21 + (i % 7) * 0.1, 1), "unit": "C", "seq": i // a.devices}
        line = (json.dumps(rec, separators=(",", ":")) + "\n").encode()
        if rec["device"].startswith("crit-"):
            sent[k] = time.perf_counter()
        pub.stdin.write(line)
        pub.stdin.flush()
    time.sleep(2.0)
    pub.stdin.close()
    pub.wait()
    for p in reversed(procs):
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    sub.terminate()
    sub.wait()
    broker.terminate()
    broker.wait()
    shutil.rmtree(tmp, ignore_errors=True)
    lat = [(got[c] - sent[c]) * 1000 for c in sent if c in got]
    fl = [(floor[c] - sent[c]) * 1000 for c in sent if c in floor]
    an = [(anom[c] - sent[c]) * 1000 for c in sent if c in anom]
    return len(sent), lat, fl, an


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "build", "tools"))
    ap.add_argument("--pub", default=None, help="bench_mqtt_pub (TCP_NODELAY); else mosquitto_pub")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--every", type=int, default=100)
    ap.add_argument("--devices", type=int, default=50)
    ap.add_argument("--broker", choices=["recommended", "default"], default="recommended",
                    help="examples/mosquitto/iotshield.conf, or the same with mosquitto's default "
                         "set_tcp_nodelay false")
    ap.add_argument("--all-db", action="store_true",
                    help="mqtt topology: iots-detect and iots-alert also write the database "
                         "(--db), as in the README's broker deployment and bench/soak.py")
    ap.add_argument("--topology", choices=["mqtt", "pipe", "both"], default="both")
    a = ap.parse_args()
    print(f"publish -> broker -> ingest -> detect -> alert -> broker, {a.rate:.0f} readings/s for "
          f"{a.seconds:.0f} s, a CRITICAL flame reading every {a.every}, {a.broker} broker config")
    print(f"{'topology':<10} {'critical':>8} {'alerts':>7} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8} {'floor p50':>10} {'floor p99':>10} {'anom p50':>9} {'anom p99':>9}")
    print("  floor: the reading itself back from the broker; anom: iots-detect's anomaly on "
          "iotshield/anomalies/# (mqtt topology only)")
    for topo in (["mqtt", "pipe"] if a.topology == "both" else [a.topology]):
        n, lat, fl, an = run(topo, a)
        if not lat:
            print(f"{topo:<10} {n:8d} {0:7d}   (no alerts)")
            continue
        print(f"{topo:<10} {n:8d} {len(lat):7d} {pct(lat, 50):8.2f} {pct(lat, 99):8.2f} "
              f"{max(lat):8.2f} {pct(fl, 50):10.2f} {pct(fl, 99):10.2f}", end="")
        print(f" {pct(an, 50):9.2f} {pct(an, 99):9.2f}" if an else f" {'-':>9} {'-':>9}")


if __name__ == "__main__":
    sys.exit(main())
