#!/usr/bin/env python3
"""How fast iots-ingest drains a QoS 1 backlog from the broker. Not a test (never run by ctest).

The soak's question (1,000 devices x 6 sensors x 1 reading/s: can ingest keep up?) without the
soak's ten minutes and without the rest of the pipeline competing for the CPU. A private mosquitto
(examples/mosquitto/iotshield.conf on a free loopback port, without persistence) keeps a
persistent session for `iots-ingest -q 1 -c -i drain-ingest --db DB --quiet`, the README's
deployment; while it is away, `iots-sim --devices D -q 1` publishes N readings (D nodes x 6
sensors, distinct series interleaved as in a home); then iots-ingest starts again and the time
from its start until the last of the N is committed is the drain.

Prints per round: readings/s, ingest's and mosquitto's CPU seconds per 1,000 readings (utime +
stime from /proc, so a loaded machine shows in the rate more than in the CPU), with --commits the
commits and readings per commit (ingest's counters at -vv), duplicates (must be 0), and the load
average.
--wrap runs the draining iots-ingest under a command, e.g.
  --wrap 'strace -c -f -o /tmp/drain.strace'   syscalls per reading (divide by N)
  --wrap 'valgrind --tool=callgrind --callgrind-out-file=/tmp/drain.cg'   instructions
--strace-broker FILE counts the broker's syscalls while it sends (FILE.ROUND).
--live RATE publishes in real time instead (RATE readings/s over --seconds, iots-ingest running
all along) and reports how far behind ingest was when the publisher ended and how long it took to
catch up.

Usage: bench/mqtt_drain.py [--bin build/tools] [-n 60000] [--devices 1000] [--rounds 3]
       [--wrap CMD] [--nice N] [--live RATE --seconds S] [--inflight N] [--commits]
       [--json FILE]
"""
import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from benchlib import cpu_seconds, free_port, port_open, stored_readings, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)


def tree_cpu(pid):
    """CPU seconds of PID and its live descendants (--wrap puts iots-ingest under another)."""
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            total += cpu_seconds(p, children=True)
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return total


def start_broker(tmp, inflight):
    port = free_port()
    conf = open(os.path.join(SRC, "examples", "mosquitto", "iotshield.conf")).read()
    if inflight:
        conf = re.sub(r"(?m)^max_inflight_messages .*$", f"max_inflight_messages {inflight}", conf)
    conf = conf.replace("listener 1883 127.0.0.1", f"listener {port} 127.0.0.1")
    conf = conf.replace("persistence true", "persistence false")
    conf += f"\nlog_dest file {tmp}/mosquitto.log\n" + ("user root\n" if os.getuid() == 0 else "")
    path = os.path.join(tmp, "mosquitto.conf")
    with open(path, "w") as f:
        f.write(conf)
    proc = subprocess.Popen(["mosquitto", "-c", path], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(tmp, "mosquitto.err"), "w"))
    wait_for(lambda: port_open(port), 10, "mosquitto did not start")
    return proc, port


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(SRC, "build", "tools"))
    ap.add_argument("-n", type=int, default=60000, help="readings in the backlog")
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--wrap", default="", help="command to run the draining iots-ingest under")
    ap.add_argument("--nice", type=int, default=0, help="nice level of broker and ingest")
    ap.add_argument("--live", type=float, default=0,
                    help="publish RATE readings/s in real time instead of a backlog")
    ap.add_argument("--seconds", type=float, default=30, help="--live: how long")
    ap.add_argument("--ingest-args", default="", help="more options for iots-ingest")
    ap.add_argument("--inflight", type=int, default=0,
                    help="the broker's max_inflight_messages (else the recommended config's)")
    ap.add_argument("--commits", action="store_true",
                    help="count commits (iots-ingest -vv: its MQTT client then formats a debug "
                    "line per packet, which costs CPU)")
    ap.add_argument("--strace-broker", default=None, metavar="FILE",
                    help="strace -c the broker during each round's drain into FILE.ROUND")
    ap.add_argument("--json", default=None)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()

    tool = lambda name: os.path.join(a.bin, name)  # noqa: E731
    for t in ("iots-ingest", "iots-sim"):
        if not os.access(tool(t), os.X_OK):
            raise SystemExit(f"mqtt_drain: error: {tool(t)} not found (--bin)")
    tmp = tempfile.mkdtemp(prefix="iots-drain.")
    if a.nice:
        os.nice(a.nice)
    broker, port = start_broker(tmp, a.inflight)
    b = ["-h", "127.0.0.1", "-p", str(port)]
    results = []
    try:
        for k in range(1, a.rounds + 1):
            results.append(one_round(a, tool, tmp, port, b, broker.pid, k))
    finally:
        broker.terminate()
        broker.wait()
        if a.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print()
    mode = f"live {a.live:.0f}/s for {a.seconds:.0f} s" if a.live else "backlog drain"
    print(f"iots-ingest -q 1 -c -i --quiet from mosquitto, {mode}, {a.n if not a.live else ''} "
          f"readings of {a.devices} devices x 6 sensors")
    print("| round | readings/s | ingest CPU s / 1k | mosquitto CPU s / 1k | commits | readings / "
          "commit | duplicates | behind at end | catch-up s | load |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['round']} | {r['rate']:,.0f} | {r['ingest_cpu_per_k']:.3f} | "
              f"{r['broker_cpu_per_k']:.3f} | {r['commits'] if a.commits else '-'} | "
              f"{round(r['per_commit']) if a.commits else '-'} | "
              f"{r['duplicates']} | {r.get('behind', '-')} | {r.get('catch_up_s', '-')} | "
              f"{r['load']:.1f} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rounds": results, "n": a.n, "devices": a.devices, "live": a.live}, f,
                      indent=1)
    bad = [r for r in results if r["duplicates"] or r["stored"] < r["expected"]]
    return 1 if bad else 0


def one_round(a, tool, tmp, port, b, broker_pid, k):
    db = os.path.join(tmp, f"drain{k}.db")
    cid = f"drain-ingest-{k}"
    ingest_cmd = [tool("iots-ingest"), *b, "-q", "1", "-c", "-i", cid, "--db", db, "--quiet",
                  *(["-v", "-v"] if a.commits else []), *shlex.split(a.ingest_args)]
    err_path = os.path.join(tmp, f"ingest{k}.err")

    def start(wrap):
        return subprocess.Popen([*shlex.split(wrap), *ingest_cmd], stdout=subprocess.DEVNULL,
                                stderr=open(err_path, "a"))

    # The persistent session, and the database with a first reading in it.
    first = start("")
    ready = json.dumps({"ts": int(time.time() * 1000), "device": "drain-ready",
                        "sensor": "temperature", "value": 20, "seq": k})
    def ready_stored():
        subprocess.run(["mosquitto_pub", *b, "-q", "1", "-t",
                        "iotshield/sensors/drain-ready/temperature", "-m", ready], check=True)
        time.sleep(0.2)
        return os.path.exists(db) and stored_readings(db) >= 1
    wait_for(ready_stored, 30, "iots-ingest did not store the ready reading")
    first.send_signal(signal.SIGTERM)
    first.wait()
    base = stored_readings(db)

    sim = [tool("iots-sim"), *b, "-q", "1", "--devices", str(a.devices), "--seed", str(k)]
    if a.live:
        n = int(a.live * a.seconds)
        interval_ms = max(100, int(round(a.devices * 6 / a.live * 1000)))
        sim += ["--realtime", "--interval", f"{interval_ms}ms", "--count", str(n)]
    else:
        n = a.n
        sim += ["--interval", "1s", "--count", str(n)]
    expected = base + n
    b0 = cpu_seconds(broker_pid, children=True)
    if not a.live:
        t = time.time()
        subprocess.run(sim, check=True, stderr=subprocess.DEVNULL)
        print(f"round {k}: published {n} in {time.time() - t:.1f} s", file=sys.stderr)
        b0 = cpu_seconds(broker_pid, children=True)
    load0 = os.getloadavg()[0]
    tracer = None
    if a.strace_broker:  # the broker's syscalls while it sends the backlog
        tracer = subprocess.Popen(["strace", "-c", "-f", "-o", f"{a.strace_broker}.{k}", "-p",
                                   str(broker_pid)], stderr=subprocess.DEVNULL)
        time.sleep(0.5)
    ing = start(a.wrap)
    t0 = time.time()
    pub = subprocess.Popen(sim, stderr=subprocess.DEVNULL) if a.live else None
    behind = None
    t_pub_end = None
    last, last_t = -1, time.time()
    cpu_ing = 0.0
    while True:
        time.sleep(0.1)
        got = stored_readings(db)
        cpu_ing = max(cpu_ing, tree_cpu(ing.pid))
        if pub is not None and t_pub_end is None and pub.poll() is not None:
            t_pub_end = time.time()
            behind = expected - got
        if got >= expected and (pub is None or t_pub_end is not None):
            break
        if got != last:
            last, last_t = got, time.time()
        elif time.time() - last_t > 60:
            print(f"round {k}: nothing stored for 60 s at {got} of {expected}", file=sys.stderr)
            break
        if ing.poll() is not None:
            print(f"round {k}: iots-ingest exited {ing.returncode}", file=sys.stderr)
            break
    t1 = time.time()
    cpu_ing = max(cpu_ing, tree_cpu(ing.pid))
    b1 = cpu_seconds(broker_pid, children=True)
    if tracer:
        tracer.send_signal(signal.SIGINT)
        tracer.wait()
    load1 = os.getloadavg()[0]
    children = subprocess.run(["pgrep", "-P", str(ing.pid)], capture_output=True,
                              text=True).stdout.split() if a.wrap else []
    if children:  # the wrapper (strace, perf) ends with iots-ingest and writes its report
        for c in children:
            os.kill(int(c), signal.SIGTERM)
    else:  # valgrind runs iots-ingest in its own process
        ing.send_signal(signal.SIGTERM)
    ing.wait()
    for c in children:  # a tracer that detached leaves it running
        try:
            os.kill(int(c), signal.SIGKILL)
        except ProcessLookupError:
            pass
    got = stored_readings(db)
    err = open(err_path).read()
    counters = re.findall(r"received (\d+), stored (\d+), rejected (\d+), duplicates (\d+)", err)
    commits = re.findall(r"(\d+) commits", err)
    dup = int(counters[-1][3]) if counters else -1  # -1: no counters line (killed?)
    ncommits = int(commits[-1]) if commits else 0
    elapsed = (t_pub_end if a.live and t_pub_end else t1) - t0
    r = {"round": k, "expected": expected, "stored": got, "duplicates": dup,
         "rate": (got - base) / (t1 - t0), "seconds": t1 - t0,
         "ingest_cpu_s": cpu_ing, "broker_cpu_s": b1 - b0,
         "ingest_cpu_per_k": cpu_ing / max(got - base, 1) * 1000,
         "broker_cpu_per_k": (b1 - b0) / max(got - base, 1) * 1000,
         "commits": ncommits, "per_commit": (got - base) / max(ncommits, 1),
         "load": max(load0, load1)}
    if a.live:
        r["behind"] = behind
        r["catch_up_s"] = round(t1 - t_pub_end, 1) if t_pub_end else None
        r["rate"] = (got - base) / elapsed if elapsed > 0 else 0
    print(f"round {k}: {json.dumps(r)}", file=sys.stderr)
    return r


if __name__ == "__main__":
    sys.exit(main())
