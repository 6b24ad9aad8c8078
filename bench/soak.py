#!/usr/bin/env python3
"""Soak: the whole home at full size for a long while. Not a test (never run by ctest).

--devices simulated nodes (1,000) x 6 sensors x one reading per --interval (1 s) for --duration
(10 min), published by iots-sim --realtime at QoS 1 to a private mosquitto (the recommended
examples/mosquitto/iotshield.conf on a free loopback port, without persistence), through the
deployment the README shows:

    iots-ingest -h -q 1 -c -i soak-ingest --db DB --quiet
    iots-detect -h --db DB > /dev/null
    iots-alert  -h --db DB > /dev/null
    iots-serve  -h --db DB --max-streams-per-client STREAMS+8 (every client is 127.0.0.1)

with --streams (50) Server-Sent-Event clients on /api/stream and one dashboard (the requests the
overview makes: its summary every second, devices, recent readings and a chart every 10 s).

Every --probe-every seconds a probe publishes a flame reading (value 1: CRITICAL) of a fresh
device soak-probe-K with the current time; its latency is from the write of its line to the
publisher until its alert arrives on iotshield/alerts/#. The same subscriber receives the
reading itself from the broker: that hop is the floor.

After the simulator ends, the drain waits until every reading it published is stored: lost (must
be 0) is counted only then, by node and seq against what iots-sim sends (its seqs do not depend on
the start time), with the readings stored twice; a drain that gives up (--drain-timeout, default
600 s, while readings still arrive) reports them as behind, not lost; --drain-quiet (60 s) without
a reading stored ends it early, and what is missing then is lost. Also printed: how far behind
iots-ingest was when the simulator ended and how long it took to catch up, the broker's own
counters ($SYS: messages dropped, held) and its log's keepalive timeouts and (re)connections, and
the tools' reconnect warnings.

Prints: readings published, stored, lost, behind and duplicates; each tool's resident memory
at rest, at the start of the measured window and at its end, when the drain ended, and its peak;
every --sample-every seconds (60) its RssAnon (the heap: what a leak grows), RssFile (mapped file pages: iots-serve's
mmap of the database, the -shm WAL index every tool maps; the kernel's to reclaim) and RssShmem,
beside the sizes of the database's -wal and -shm files, so that "flat" can be judged; publish -> alert p50 /
p99; CPU per 1,000 readings/s for each tool over the window (the first --warmup seconds of load
are left out); what the live streams received. --json FILE also writes the figures as JSON
(bench/run reads it). Exit status 1 when a reading was lost, behind or stored twice, a stream
closed, or a probe got no alert.

Usage: bench/soak.py [--bin build/tools] [--pub build/bench/bench_mqtt_pub] [--devices 1000]
       [--duration 600] [--interval 1] [--streams 50] [--probe-every 2] [--warmup 15] [--keep]
       [--sample-every 60] [--drain-timeout 600] [--drain-quiet 60]
       [--one-writer]   (iots-detect and iots-alert without --db: iots-ingest the only writer)
"""
import argparse
import json
import multiprocessing
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from benchlib import cpu_seconds, free_port, pct, port_open, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def proc_status(pid):
    """(rss KiB, peak rss KiB) from /proc/PID/status."""
    m = proc_mem(pid)
    return m["rss"], m["hwm"]


def proc_mem(pid):
    """KiB from /proc/PID/status: rss = anon (the heap: what a leak grows) + file (mapped file
    pages, e.g. SQLite's mmap of the database: the kernel's to reclaim) + shmem (SQLite's -shm
    wal-index, shared by every tool on the database); hwm the peak rss."""
    keys = {"VmRSS:": "rss", "VmHWM:": "hwm", "RssAnon:": "anon", "RssFile:": "file",
            "RssShmem:": "shmem"}
    m = dict.fromkeys(keys.values(), 0)
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k = keys.get(line.split(":", 1)[0] + ":")
            if k:
                m[k] = int(line.split()[1])
    return m


class Streams:
    """N Server-Sent-Event clients on one selector thread; counts the events each receives."""

    def __init__(self, port, n):
        self.port, self.n = port, n
        self.sel = selectors.DefaultSelector()
        self.events = [0] * n
        self.last = [0.0] * n
        self.closed = [False] * n
        self.stop = threading.Event()
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, i)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            for key, _ in self.sel.select(timeout=0.5):
                i = key.data
                try:
                    data = key.fileobj.recv(1 << 16)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self.closed[i] = True
                    self.sel.unregister(key.fileobj)
                    key.fileobj.close()
                    continue
                self.events[i] += data.count(b"\nevent: ") + data.startswith(b"event: ")
                self.last[i] = time.time()

    def close(self):
        self.stop.set()
        self.thread.join()
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()


class Dashboard:
    """The requests one open overview makes: its summary every second, the rest every 10 s."""

    def __init__(self, port, device):
        self.base = f"http://127.0.0.1:{port}"
        self.device = device
        self.requests = self.failures = 0
        self.failed = {}  # path -> the last error
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def get(self, path):
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as r:
                r.read()
            self.requests += 1
        except urllib.error.HTTPError as e:
            if e.code == 404 and path.startswith("/api/readings"):
                self.requests += 1  # the device has sent nothing yet: an answer all the same
            else:
                self.failures += 1
                self.failed[path.split("?")[0]] = str(e)[:200]
        except OSError as e:
            self.failures += 1
            self.failed[path.split("?")[0]] = str(e)[:200]

    def run(self):
        k = 0
        while not self.stop.is_set():
            if k % 10 == 0:
                now = int(time.time() * 1000)
                for path in ("/", "/api/devices/list/", "/api/sensors/recent/?limit=12",
                             "/api/alerts/list/?status=new&limit=8",
                             f"/api/readings?device={self.device}&sensor=temperature"
                             f"&from={now - 3600_000}&to={now}&points=300"):
                    self.get(path)
            self.get("/api/stats/summary/")
            k += 1
            self.stop.wait(1.0)

    def close(self):
        self.stop.set()
        self.thread.join()


def clients_main(http, n, device, status_path, stop):
    """The streams and the dashboard, in a process of their own: the probes' timing thread must
    not wait for the interpreter lock behind 50 busy sockets."""
    streams = Streams(http, n)
    dashboard = Dashboard(http, device)

    def report():
        t = time.time()
        with open(status_path + ".tmp", "w") as f:
            json.dump({"events": streams.events, "closed": streams.closed, "last": streams.last,
                       "now": t, "requests": dashboard.requests, "failures": dashboard.failures,
                       "failed": dashboard.failed}, f)
        os.replace(status_path + ".tmp", status_path)

    while not stop.wait(1.0):
        report()
    dashboard.close()
    streams.close()
    report()


class Probes:
    """CRITICAL readings of fresh devices, timed from publish to their alert on the broker."""

    def __init__(self, a, port, pub):
        self.every = a.probe_every
        self.sent, self.floor, self.anomaly, self.alert = {}, {}, {}, {}
        b = ["-h", "127.0.0.1", "-p", str(port)]
        self.sub = subprocess.Popen(["mosquitto_sub", *b, "-q", "1", "-v", "-t", "iotshield/alerts/#",
                                     "-t", "iotshield/sensors/data",
                                     "-t", "iotshield/anomalies/+/flame"], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, bufsize=0)
        if pub:
            cmd = [pub, "127.0.0.1", str(port), "1", "iotshield/sensors/data"]
        else:
            cmd = ["mosquitto_pub", *b, "-q", "1", "-t", "iotshield/sensors/data", "-l"]
        self.pub = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()
        self.stop = threading.Event()
        self.thread = None

    def read(self):
        buf, fd = b"", self.sub.stdout.fileno()
        pat = re.compile(rb'"device":"soak-probe-(\d+)"')
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            now = time.perf_counter()
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for ln in lines:
                m = pat.search(ln)
                if not m:
                    continue
                k = int(m.group(1))
                if ln.startswith(b"iotshield/alerts/"):
                    if b'"event":"open"' in ln:
                        self.alert.setdefault(k, now)
                elif ln.startswith(b"iotshield/anomalies/"):
                    self.anomaly.setdefault(k, now)
                else:
                    self.floor.setdefault(k, now)

    def start(self):
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        k = 0
        while not self.stop.wait(self.every):
            k += 1
            rec = {"ts": int(time.time() * 1000), "device": f"soak-probe-{k}", "sensor": "flame",
                   "value": 1, "unit": "0/1", "seq": 1}
            line = (json.dumps(rec, separators=(",", ":")) + "\n").encode()
            self.sent[k] = time.perf_counter()
            self.pub.stdin.write(line)
            self.pub.stdin.flush()

    def finish(self):
        self.stop.set()
        if self.thread:
            self.thread.join()
        self.pub.stdin.close()
        self.pub.wait()

    def close(self):
        self.sub.terminate()
        self.sub.wait()


def start_broker(tmp):
    port = free_port()
    conf = open(os.path.join(SRC, "examples", "mosquitto", "iotshield.conf")).read()
    conf = conf.replace("listener 1883 127.0.0.1", f"listener {port} 127.0.0.1")
    conf = conf.replace("persistence true", "persistence false")
    # $SYS every second: the messages the broker dropped (a queue over max_queued_messages) and
    # the ones it still holds (queued for a subscriber behind, or in flight) are read from there.
    conf += (f"\nlog_dest file {tmp}/mosquitto.log\nsys_interval 1\n"
             + ("user root\n" if os.getuid() == 0 else ""))
    path = os.path.join(tmp, "mosquitto.conf")
    with open(path, "w") as f:
        f.write(conf)
    proc = subprocess.Popen(["mosquitto", "-c", path], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(tmp, "mosquitto.err"), "w"))
    wait_for(lambda: port_open(port), 10, "mosquitto did not start")
    return proc, port


class BrokerSys:
    """The broker's own counters ($SYS, every second): the latest value of each."""
    TOPICS = {"$SYS/broker/publish/messages/dropped": "dropped",
              "$SYS/broker/store/messages/count": "held",
              "$SYS/broker/clients/connected": "clients",
              "$SYS/broker/messages/received": "received",
              "$SYS/broker/messages/sent": "sent"}

    def __init__(self, port):
        self.values = {}
        args = [x for t in self.TOPICS for x in ("-t", t)]
        self.sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-v",
                                     *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        for line in self.sub.stdout:
            topic, _, value = line.decode(errors="replace").strip().partition(" ")
            if topic in self.TOPICS and value.lstrip("-").isdigit():
                self.values[self.TOPICS[topic]] = int(value)

    def get(self, key):
        return self.values.get(key)

    def close(self):
        if self.sub.poll() is None:
            self.sub.terminate()
            self.sub.wait()


def log_counts(path, patterns):
    """How many lines of the file match each regex (the tools' and the broker's reconnects)."""
    counts = dict.fromkeys(patterns, 0)
    if os.path.exists(path):
        with open(path, errors="replace") as f:
            for line in f:
                for p in patterns:
                    if re.search(p, line):
                        counts[p] += 1
    return counts


def expected_per_device(tool, devices, interval_ms, duration):
    """What iots-sim sends for these options (the same seqs whatever the start time): per node,
    its count and its least and greatest seq (one counter a node over its sensors)."""
    gen = subprocess.Popen([tool("iots-sim"), "--devices", str(devices), "--interval",
                            f"{interval_ms}ms", "--duration", f"{int(round(duration))}s"],
                           stdout=subprocess.PIPE)
    per = {}
    pat = re.compile(rb'"device":"([^"]+)".*?"seq":(\d+)')
    for line in gen.stdout:
        m = pat.search(line)
        if not m:
            raise SystemExit(f"soak: error: iots-sim line without device or seq: {line[:200]!r}")
        d, q = m.group(1).decode(), int(m.group(2))
        n, lo, hi = per.get(d, (0, q, q))
        per[d] = (n + 1, min(lo, q), max(hi, q))
    if gen.wait() != 0:
        raise SystemExit("soak: error: iots-sim (counting what it sends) failed")
    return per


def stat(db, key):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        row = con.execute("SELECT value FROM stats WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(SRC, "build", "tools"), help="the built tools")
    ap.add_argument("--pub", default=None,
                    help="bench_mqtt_pub, the probes' publisher (else mosquitto_pub -l)")
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=600, help="seconds of simulated load")
    ap.add_argument("--interval", type=float, default=1, help="seconds between a sensor's readings")
    ap.add_argument("--streams", type=int, default=50, help="live streams on /api/stream")
    ap.add_argument("--probe-every", type=float, default=2, help="seconds between probes")
    ap.add_argument("--warmup", type=float, default=15,
                    help="seconds of load before the measured window (nodes connecting)")
    ap.add_argument("--sample-every", type=float, default=60,
                    help="seconds between memory samples in the window (RssAnon, RssFile, RssShmem)")
    ap.add_argument("--one-writer", action="store_true",
                    help="iots-detect and iots-alert without --db: iots-ingest alone writes")
    ap.add_argument("--drain-timeout", type=float, default=600,
                    help="seconds, after the simulator ends, to wait for iots-ingest to store "
                         "every reading published; what is missing then is reported as behind")
    ap.add_argument("--drain-quiet", type=float, default=60,
                    help="seconds without a reading stored after which what is missing is lost, "
                         "not behind")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    if a.warmup >= a.duration:
        raise SystemExit("soak: error: --warmup must be shorter than --duration")
    tool = lambda name: os.path.join(a.bin, name)
    for name in ("iots-sim", "iots-ingest", "iots-detect", "iots-alert", "iots-serve"):
        if not os.access(tool(name), os.X_OK):
            raise SystemExit(f"soak: error: {tool(name)} not found (build it, or give --bin)")
    # A connection each node, the broker one each: lift the open-files limit to its maximum.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    interval_ms = max(100, int(round(a.interval * 1000)))
    # What the simulator will publish, before the load (its seqs do not depend on the start time).
    expected = expected_per_device(tool, a.devices, interval_ms, a.duration)
    published_sim = sum(n for n, _, _ in expected.values())

    tmp = tempfile.mkdtemp(prefix="iots-soak-")
    db = os.path.join(tmp, "home.db")
    procs, names = {}, []
    clients = probes = sys_ = None
    stop_clients = multiprocessing.Event()
    status_path = os.path.join(tmp, "clients.json")
    devnull = subprocess.DEVNULL

    def spawn(name, cmd, **kw):
        err = open(os.path.join(tmp, f"{name}.err"), "w")
        procs[name] = subprocess.Popen(cmd, stdout=kw.pop("stdout", devnull), stderr=err, **kw)
        names.append(name)

    try:
        broker, port = start_broker(tmp)
        procs["mosquitto"] = broker
        names.append("mosquitto")
        b = ["-h", "127.0.0.1", "-p", str(port)]
        sys_ = BrokerSys(port)
        # The schema first, so the other tools find the database.
        subprocess.run([tool("iots-ingest"), "--db", db, "--quiet", "--quiet-log"], stdin=devnull,
                       check=True)
        spawn("iots-ingest", [tool("iots-ingest"), *b, "-q", "1", "-c", "-i", "soak-ingest",
                              "--db", db, "--quiet"])
        writes = [] if a.one_writer else ["--db", db]
        spawn("iots-detect", [tool("iots-detect"), *b, *writes])
        spawn("iots-alert", [tool("iots-alert"), *b, *writes])
        http = free_port()
        spawn("iots-serve", [tool("iots-serve"), *b, "--db", db, "--listen", f"127.0.0.1:{http}",
                             # every client here is 127.0.0.1: lift the per-address caps
                             "--max-streams", str(a.streams + 8),
                             "--max-streams-per-client", str(a.streams + 8),
                             "--max-connections-per-client", str(a.streams + 64), "--quiet-log"])

        def healthy():
            with urllib.request.urlopen(f"http://127.0.0.1:{http}/api/health", timeout=1) as r:
                return json.load(r)
        wait_for(lambda: healthy()["status"] == "ok", 20, "iots-serve did not answer")
        clients = multiprocessing.Process(target=clients_main, daemon=True, args=(
            http, a.streams, "esp32-livingroom", status_path, stop_clients))
        clients.start()
        wait_for(lambda: healthy()["stream_clients"] >= a.streams, 20,
                 f"iots-serve did not hold {a.streams} live streams")
        probes = Probes(a, port, a.pub)
        time.sleep(1.0)  # subscriptions in place
        at_rest = {n: proc_status(procs[n].pid)[0] for n in names}

        spawn("iots-sim", [tool("iots-sim"), *b, "-q", "1", "--devices", str(a.devices),
                           "--interval", f"{interval_ms}ms", "--realtime",
                           "--duration", f"{int(round(a.duration))}s"])
        t_sim = time.time()
        probes.start()
        def check_alive():
            for n, p in procs.items():
                if p.poll() is not None:
                    err = os.path.join(tmp, f"{n}.err")
                    tail = open(err).read()[-1500:] if os.path.exists(err) else ""
                    raise SystemExit(f"soak: error: {n} exited with {p.returncode} "
                                     f"{time.time() - t_sim:.0f} s into the load:\n{tail}")
        time.sleep(a.warmup)
        check_alive()
        t0 = time.time()
        loads = [os.getloadavg()[0]]
        start = {n: (proc_status(procs[n].pid)[0], cpu_seconds(procs[n].pid)) for n in names}
        stored0 = stat(db, "total_readings")
        # The window ends a little before the simulator does (it stops on its own).
        end_at = t_sim + a.duration - min(2.0, (a.duration - a.warmup) / 10)
        rss_max = {n: start[n][0] for n in names}
        def files():  # the database's WAL and its index (-shm), KiB
            return {x: os.path.getsize(db + x) // 1024 if os.path.exists(db + x) else 0
                    for x in ("-wal", "-shm")}
        samples = [(0.0, {n: proc_mem(procs[n].pid) for n in names} | {"db": files()})]
        next_sample = t0 + a.sample_every
        while time.time() < end_at:
            time.sleep(min(5.0, max(0.0, end_at - time.time()), max(0.0, next_sample - time.time())))
            check_alive()
            mem = {n: proc_mem(procs[n].pid) for n in names}
            loads.append(os.getloadavg()[0])
            for n in names:
                rss_max[n] = max(rss_max[n], mem[n]["rss"])
            if time.time() >= next_sample:
                samples.append((time.time() - t0, mem | {"db": files()}))
                next_sample += a.sample_every
        t1 = time.time()
        samples.append((t1 - t0, {n: proc_mem(procs[n].pid) for n in names} | {"db": files()}))
        end = {n: proc_status(procs[n].pid) + (cpu_seconds(procs[n].pid),) for n in names}
        stored1 = stat(db, "total_readings")
        time.sleep(1.5)  # the clients' next report
        st = json.load(open(status_path))
        open_streams = sum(1 for i in range(a.streams)
                           if not st["closed"][i] and st["last"][i] > t1 - 20)
        events = sorted(st["events"])
        probes.finish()
        try:
            procs["iots-sim"].wait(timeout=max(30.0, t_sim + a.duration + 30 - time.time()))
        except subprocess.TimeoutExpired:
            tail = open(os.path.join(tmp, "iots-sim.err")).read()[-1500:]
            raise SystemExit(f"soak: error: iots-sim did not stop 30 s after its --duration "
                             f"({a.devices} devices):\n{tail}") from None
        # Drain: until every reading published is stored, or --drain-quiet seconds without one
        # stored while the broker holds nothing more (what is missing then is lost), or
        # --drain-timeout (what is missing then is behind: still on its way, not counted lost).
        # The drain of old ended at 3 s without a new row: its count is kept as "early".
        want = published_sim + len(probes.sent)
        t_drain = time.time()
        at_sim_end = stat(db, "total_readings")
        early = None  # (seconds into the drain, stored) when the count first stood still 3 s
        last, since, drain_end = -1, time.time(), "complete"
        drain_rss = []  # [seconds into the drain, {tool: rss KiB}] every 10 s
        next_rss = t_drain
        while True:
            n_now = stat(db, "total_readings")
            now = time.time()
            if now >= next_rss:
                drain_rss.append((now - t_drain, {n: proc_mem(procs[n].pid)["rss"]
                                                  for n in names if procs[n].poll() is None}))
                next_rss += 10
            if n_now != last:
                last, since = n_now, now
            elif early is None and now - since >= 3:
                early = (since - t_drain, n_now)
            if n_now >= want:
                break
            if now - since >= a.drain_quiet:
                drain_end = "quiet"
                break
            if now - t_drain >= a.drain_timeout:
                drain_end = "timeout"
                break
            time.sleep(0.5)
        drain_s = time.time() - t_drain
        broker_after = {k: sys_.get(k) for k in ("dropped", "held", "clients", "received", "sent")}
        drain_tail = {n: proc_mem(procs[n].pid) for n in names if procs[n].poll() is None}
        stop_clients.set()
        clients.join(timeout=10)
        st = json.load(open(status_path))
        for n in ("iots-serve", "iots-alert", "iots-detect", "iots-ingest"):
            procs[n].send_signal(signal.SIGTERM)
            procs[n].wait(timeout=30)
        probes.close()
        sys_.close()
        broker.terminate()
        broker.wait()
    finally:
        if sys.exc_info()[0] is not None:
            print(f"soak: the tools' output is kept in {tmp}", file=sys.stderr)
        for p in reversed(list(procs.values())):  # the simulator first, the broker last
            if p.poll() is None:
                p.kill()
                p.wait()
        if sys_:
            sys_.close()
        if probes:
            for p in (probes.pub, probes.sub):
                if p.poll() is None:
                    p.kill()
        stop_clients.set()
        if clients and clients.is_alive():
            clients.kill()

    # --- counts ----------------------------------------------------------------------------------
    # Per node, against what the simulator sent (expected): seqs missing and seqs stored twice
    # (one counter a node over its six sensors, so (node, seq) names one reading).
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT d.name, count(*), count(DISTINCT r.seq), min(r.seq), max(r.seq) FROM readings r "
        "JOIN series s ON s.id = r.series_id JOIN devices d ON d.id = s.device_id "
        "WHERE d.name NOT LIKE 'soak-probe-%' GROUP BY d.id").fetchall()
    got = {d: (n, nd, lo, hi) for d, n, nd, lo, hi in rows}
    stored_sim = sum(n for n, _, _, _ in got.values())
    missing, doubled, unexpected, short = 0, 0, 0, []
    for d, (n, lo, hi) in expected.items():
        sn, snd, slo, shi = got.get(d, (0, 0, None, None))
        doubled += sn - snd
        if slo is not None and (slo < lo or shi > hi):
            unexpected += 1
        if snd < n:
            missing += n - snd
            short.append((d, n - snd))
    unexpected += sum(1 for d in got if d not in expected)
    # The first missing seqs of a few nodes, for the report.
    examples = []
    for d, k in sorted(short, key=lambda x: -x[1])[:3]:
        have = {q for (q,) in con.execute(
            "SELECT DISTINCT r.seq FROM readings r JOIN series s ON s.id = r.series_id "
            "JOIN devices d ON d.id = s.device_id WHERE d.name = ?", (d,))}
        n, lo, hi = expected[d]
        gone = [q for q in range(lo, hi + 1) if q not in have]  # seqs of a node are contiguous
        examples.append(f"{d} {k} missing, seq {gone[0]}..{gone[-1]}" if gone else f"{d} {k}")
    # Seqs of a node are contiguous in what the simulator sends: the missing ones are gaps.
    stored_probes = con.execute(
        "SELECT count(*) FROM readings r JOIN series s ON s.id = r.series_id "
        "JOIN devices d ON d.id = s.device_id WHERE d.name LIKE 'soak-probe-%'").fetchone()[0]
    con.close()
    duplicates = stat(db, "duplicate_readings")
    rejected = stat(db, "rejected_readings")
    missing_all = missing + (len(probes.sent) - stored_probes)
    # Missing at the end of a drain that timed out is behind (still coming), not lost.
    lost = missing_all if drain_end != "timeout" else 0
    behind = missing_all if drain_end == "timeout" else 0
    reconnects = {n: sum(log_counts(os.path.join(tmp, f"{n}.err"),
                                    [r"lost connection|reconnecting"]).values())
                  for n in names if n != "mosquitto"}
    broker_log = log_counts(os.path.join(tmp, "mosquitto.log"),
                            [r"exceeded timeout", r"New client connected", r"disconnected",
                             r"[Oo]utgoing messages are being dropped"])
    window = t1 - t0
    rate = (stored1 - stored0) / window
    lat = [(probes.alert[k] - probes.sent[k]) * 1000 for k in probes.sent if k in probes.alert]
    floor = [(probes.floor[k] - probes.sent[k]) * 1000 for k in probes.sent if k in probes.floor]
    # The hops: publish -> the anomaly from iots-detect on the broker -> the alert from iots-alert.
    detect_hop = [(probes.anomaly[k] - probes.sent[k]) * 1000 for k in probes.sent
                  if k in probes.anomaly]
    alert_hop = [(probes.alert[k] - probes.anomaly[k]) * 1000 for k in probes.sent
                 if k in probes.anomaly and k in probes.alert]
    slow = sorted(((probes.alert[k] - probes.sent[k]) * 1000, k) for k in probes.sent
                  if k in probes.alert)[-5:]
    missing_alerts = len(probes.sent) - len(lat)

    res = {
        "devices": a.devices, "sensors": 6, "interval_s": a.interval, "duration_s": a.duration,
        "window_s": round(window, 1), "streams": a.streams,
        "load_1min": [round(min(loads), 1), round(max(loads), 1)], "one_writer": a.one_writer,
        "published": published_sim,
        "published_probes": len(probes.sent), "stored": stored_sim, "stored_probes": stored_probes,
        "lost": lost, "behind": behind, "missing_by_seq": missing, "doubled_by_seq": doubled,
        "unexpected_nodes": unexpected, "missing_examples": examples, "duplicates": duplicates,
        "drain": {"end": drain_end, "seconds": round(drain_s, 1),
                  "behind_at_sim_end": want - at_sim_end,
                  # where the old 3 s drain would have stopped, and what it would have called lost
                  "early_stop_s": round(early[0], 1) if early else None,
                  "early_behind": want - early[1] if early else None,
                  "rss_mib": [[round(t, 1), {n: round(v / 1024, 1) for n, v in m.items()}]
                              for t, m in drain_rss]},
        "broker": broker_after, "broker_log": broker_log, "reconnect_warnings": reconnects,
        "rejected": rejected, "readings_per_s": round(rate, 1),
        "alert_p50_ms": round(pct(lat, 50), 2), "alert_p99_ms": round(pct(lat, 99), 2),
        "alert_max_ms": round(max(lat), 2) if lat else None, "probes_without_alert": missing_alerts,
        "floor_p50_ms": round(pct(floor, 50), 2), "floor_p99_ms": round(pct(floor, 99), 2),
        "anomaly_p50_ms": round(pct(detect_hop, 50), 2), "anomaly_p99_ms": round(pct(detect_hop, 99), 2),
        "anomaly_to_alert_p50_ms": round(pct(alert_hop, 50), 2),
        "anomaly_to_alert_p99_ms": round(pct(alert_hop, 99), 2),
        "streams_open_at_end": open_streams, "stream_events_min": events[0] if events else 0,
        "stream_events_max": events[-1] if events else 0,
        "dashboard_requests": st["requests"], "dashboard_failures": st["failures"],
        "tools": {},
        # each probe: [k, sent, back from the broker, anomaly, alert], CLOCK_MONOTONIC seconds
        "probes": [[k, probes.sent[k], probes.floor.get(k), probes.anomaly.get(k), probes.alert.get(k)]
                   for k in sorted(probes.sent)],
    }
    for n in names:
        cpu = (end[n][2] - start[n][1]) / window  # cores busy
        res["db_files_mib"] = [[round(t, 1), round(m["db"]["-wal"] / 1024, 1),
                                round(m["db"]["-shm"] / 1024, 1)] for t, m in samples]
        res["tools"][n] = {
            "rss_rest_mib": round(at_rest.get(n, 0) / 1024, 1) if n in at_rest else None,
            "rss_start_mib": round(start[n][0] / 1024, 1), "rss_end_mib": round(end[n][0] / 1024, 1),
            "rss_max_mib": round(max(rss_max[n], end[n][0]) / 1024, 1),
            "rss_drained_mib": round(drain_tail[n]["rss"] / 1024, 1) if n in drain_tail else None,
            "rss_peak_mib": round(end[n][1] / 1024, 1),
            "rss_anon_start_mib": round(samples[0][1][n]["anon"] / 1024, 1),
            "rss_anon_end_mib": round(samples[-1][1][n]["anon"] / 1024, 1),
            "rss_file_start_mib": round(samples[0][1][n]["file"] / 1024, 1),
            "rss_file_end_mib": round(samples[-1][1][n]["file"] / 1024, 1),
            "rss_shmem_start_mib": round(samples[0][1][n]["shmem"] / 1024, 1),
            "rss_shmem_end_mib": round(samples[-1][1][n]["shmem"] / 1024, 1),
            # [seconds into the window, anon, file, shmem] (MiB), every --sample-every s
            "samples": [[round(t, 1)] + [round(m[n][k] / 1024, 1) for k in ("anon", "file", "shmem")]
                        for t, m in samples],
            "cpu_pct": round(100 * cpu, 1),
            "cpu_pct_per_1k": round(100 * cpu / (rate / 1000), 2) if rate > 0 else None,
        }

    # --- table -----------------------------------------------------------------------------------
    print(f"soak: {a.devices} devices x 6 sensors, a reading each {a.interval:g} s, {a.duration:g} s "
          f"(measured window {window:.0f} s after {a.warmup:g} s of warm-up, load average "
          f"{min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} CPUs); {a.streams} live "
          f"streams and a dashboard open" + ("; iots-ingest the only writer (--one-writer)" if a.one_writer else ""))
    print(f"readings: published {published_sim} + {len(probes.sent)} probes, stored {stored_sim} + "
          f"{stored_probes}, lost {lost}, behind {behind}; by node and seq: {missing} missing, "
          f"{doubled} stored twice; duplicates {duplicates} (deliveries skipped as already stored),"
          f" rejected {rejected}; {rate:.0f} readings/s stored in the window"
          + (f"\n  missing: {'; '.join(examples)}" if examples else ""))
    dr = res["drain"]
    print(f"drain: {dr['behind_at_sim_end']} readings not yet stored when the simulator ended; "
          + {"complete": f"all stored {drain_s:.1f} s later",
             "quiet": f"nothing stored for {a.drain_quiet:g} s: stopped after {drain_s:.1f} s, "
                      "the missing ones are lost",
             "timeout": f"--drain-timeout {a.drain_timeout:g} s reached, still storing: the "
                        f"missing ones are behind, not counted lost"}[drain_end]
          + (f"; a 3 s quiet drain would have stopped at {dr['early_stop_s']} s, "
             f"{dr['early_behind']} behind" if early else ""))
    print(f"broker: dropped {broker_after['dropped']}, holding {broker_after['held']} messages at the "
          f"drain's end; log: {broker_log['exceeded timeout']} keepalive timeouts, "
          f"{broker_log['New client connected']} connects, {broker_log['disconnected']} disconnects, "
          f"{broker_log['[Oo]utgoing messages are being dropped']} 'messages are being dropped'; "
          "reconnect warnings: " + ", ".join(f"{n.replace('iots-', '')} {k}"
                                             for n, k in reconnects.items()))
    print(f"publish -> alert ({len(lat)} of {len(probes.sent)} probes): p50 {res['alert_p50_ms']} ms, "
          f"p99 {res['alert_p99_ms']} ms, max {res['alert_max_ms']} ms; floor (the reading back "
          f"from the broker) p50 {res['floor_p50_ms']} ms, p99 {res['floor_p99_ms']} ms")
    print(f"  hops: publish -> anomaly (iots-detect) p50 {res['anomaly_p50_ms']} ms, p99 "
          f"{res['anomaly_p99_ms']} ms; anomaly -> alert (iots-alert) p50 "
          f"{res['anomaly_to_alert_p50_ms']} ms, p99 {res['anomaly_to_alert_p99_ms']} ms; slowest: "
          + ", ".join(f"#{k} {ms:.0f} ms (floor {(probes.floor.get(k, 0) - probes.sent[k]) * 1000:.0f}"
                      f", anomaly {(probes.anomaly.get(k, 0) - probes.sent[k]) * 1000:.0f})"
                      for ms, k in slow))
    for n in ("iots-sim", "iots-ingest"):
        warn = [ln.strip() for ln in open(os.path.join(tmp, f"{n}.err"), errors="replace")
                if "warning" in ln or "error" in ln]
        if warn:
            print(f"  {n}: {len(warn)} warnings, the last: " + " | ".join(warn[-3:]))
    print(f"live streams: {open_streams}/{a.streams} open and receiving at the end, "
          f"{res['stream_events_min']}-{res['stream_events_max']} events each; dashboard "
          f"{st['requests']} requests, {st['failures']} failed"
          + "".join(f"\n  {p}: {e}" for p, e in st["failed"].items()))
    print()
    print(f"{'tool':<12} {'RSS rest':>9} {'start':>8} {'end':>8} {'drained':>8} {'max':>8} {'peak':>8} "
          f"{'CPU %':>7} {'CPU % per 1k/s':>15}")
    for n in names:
        t = res["tools"][n]
        rest = f"{t['rss_rest_mib']:.1f}" if t["rss_rest_mib"] is not None else "-"
        per = f"{t['cpu_pct_per_1k']:.2f}" if t["cpu_pct_per_1k"] is not None else "-"
        drained = f"{t['rss_drained_mib']:.1f}" if t["rss_drained_mib"] is not None else "-"
        print(f"{n:<12} {rest:>9} {t['rss_start_mib']:>8.1f} {t['rss_end_mib']:>8.1f} {drained:>8} "
              f"{t['rss_max_mib']:>8.1f} {t['rss_peak_mib']:>8.1f} {t['cpu_pct']:>7.1f} {per:>15}")
    print("  RSS in MiB (rest: before the load; start/end: the measured window; drained: when the "
          "drain ended; max: sampled every 5 s; peak: VmHWM); CPU: % of one core over the window; "
          "iots-sim is the load")
    print()
    print("resident memory in the window, MiB: anon (heap; a leak grows it) / file (mapped file "
          "pages) / shmem (SQLite's wal-index)")
    print(f"{'s':>6} " + " ".join(f"{n.replace('iots-', ''):>20}" for n in names)
          + f" {'-wal':>8} {'-shm':>6}")
    for t, m in samples:
        print(f"{t:6.0f} " + " ".join(
            f"{m[n]['anon'] / 1024:8.1f}/{m[n]['file'] / 1024:5.1f}/{m[n]['shmem'] / 1024:5.1f}"
            for n in names) + f" {m['db']['-wal'] / 1024:8.1f} {m['db']['-shm'] / 1024:6.1f}")
    print("  -wal, -shm: the database's write-ahead log and its index, file sizes in MiB (the index "
          "is mapped by every tool on the database: its pages count in each one's file RSS)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    if a.keep:
        print(f"files in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    ok = lost == 0 and behind == 0 and doubled == 0 and open_streams == a.streams and missing_alerts == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
