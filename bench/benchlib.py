"""What the benchmarks share: free loopback ports, percentiles, waiting for a condition, CPU time."""

import os
import socket
import sqlite3
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")
PROG = os.path.splitext(os.path.basename(sys.argv[0]))[0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs, p):
    """The p-th percentile of xs (nearest rank), NaN for none."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


def wait_for(cond, limit, what):
    """Polls cond() until it is true; exits naming `what` after `limit` seconds."""
    end = time.time() + limit
    while time.time() < end:
        try:
            if cond():
                return
        except (OSError, sqlite3.Error):
            pass
        time.sleep(0.05)
    raise SystemExit(f"{PROG}: error: {what} (waited {limit} s)")


def port_open(port):
    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    return True


def wait_port(port, limit=10):
    wait_for(lambda: port_open(port), limit, f"nothing listens on 127.0.0.1:{port}")


def cpu_seconds(pid, children=False):
    """utime + stime of PID (all its threads), and with children those of its reaped children,
    seconds, from /proc/PID/stat (fields 14 to 17 of proc(5))."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in ((11, 12, 13, 14) if children else (11, 12))) / TICK


def stored_readings(db):
    """Rows in the readings table of the database at db, read-only."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT count(*) FROM readings").fetchone()[0]
    finally:
        con.close()
