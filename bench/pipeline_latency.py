#!/usr/bin/env python3
"""Publish -> committed-row latency of iots-ingest, at a steady rate.

Feeds readings to `mosquitto_pub -l` at RATE per second (one line each, seq 1..COUNT), and polls the
SQLite file (WAL: the reader never blocks the writer) for new rows; the latency of a reading is the
time from writing its line to the publisher until its row is first visible. Polling adds up to
about POLL seconds (0.2 ms) to each figure. Prints: count seen p50_ms p99_ms max_ms.

Usage: pipeline_latency.py HOST PORT DB RATE COUNT QOS [PUBLISHER]
PUBLISHER is bench_mqtt_pub (HOST PORT QOS TOPIC, lines on stdin); without it, mosquitto_pub -l.
"""
import sqlite3
import subprocess
import sys
import threading
import time


def main():
    host, port, db, rate, count, qos = sys.argv[1:7]
    rate, count = float(rate), int(count)
    device = "latency"
    topic = f"iotshield/sensors/{device}/temperature"
    if len(sys.argv) > 7:
        cmd = [sys.argv[7], host, port, qos, topic]
    else:
        cmd = ["mosquitto_pub", "-h", host, "-p", port, "-q", qos, "-t", topic, "-l"]
    pub = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    sent = {}
    seen = {}
    done = threading.Event()

    def poll():
        con = sqlite3.connect(db, isolation_level=None, timeout=10)
        # readings has no row id (primary key series_id, ts, seq): follow ts per device.
        last = con.execute("SELECT coalesce(max(ts), 0) FROM readings").fetchone()[0]
        q = (
            "SELECT r.ts, r.seq FROM readings r JOIN series s ON s.id = r.series_id "
            "JOIN devices d ON d.id = s.device_id WHERE r.ts >= ? AND d.name = ?"
        )
        while not done.is_set():
            # A second back: members of a --share group commit out of ts order (MEMBERS=2).
            rows = con.execute(q, (last - 1000, device)).fetchall()
            now = time.perf_counter()
            fresh = False
            for ts, seq in rows:
                last = max(last, ts)
                if seq not in seen:
                    seen[seq] = now
                    fresh = True
            rows = rows if fresh else []
            if not rows:
                time.sleep(0.0002)
            if len(seen) >= count:
                break
        con.close()

    poller = threading.Thread(target=poll)
    poller.start()
    start_ms = int(time.time() * 1000)
    t0 = time.perf_counter()
    for i in range(1, count + 1):
        target = t0 + (i - 1) / rate
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        ts = start_ms + i  # distinct timestamps, one ms apart
        line = (
            f'{{"ts":{ts},"device":"{device}","sensor":"temperature",'
            f'"value":{20 + (i % 100) / 10:.1f},"unit":"C","seq":{i}}}\n'
        )
        sent[i] = time.perf_counter()
        pub.stdin.write(line.encode())
        pub.stdin.flush()
    pub.stdin.close()
    pub.wait()
    poller.join(timeout=30)
    done.set()
    poller.join()

    lat = sorted((seen[s] - sent[s]) * 1000.0 for s in seen if s in sent)
    if not lat:
        print(f"{count} 0 nan nan nan")
        return
    def pct(p):
        return lat[min(len(lat) - 1, int(round(p / 100.0 * (len(lat) - 1))))]
    print(f"{count} {len(lat)} {pct(50):.2f} {pct(99):.2f} {lat[-1]:.2f}")


if __name__ == "__main__":
    main()
