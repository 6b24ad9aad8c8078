#!/usr/bin/env python3
"""bench/storage.py -- what raw readings cost on disk, with and without compact chunks (issue 18).

Simulates a 5-node home (iots-sim --devices 5: 5 nodes x 6 sensors, a reading every 5 s, 518,400
readings a day) for --days days, stores it twice with iots-ingest --quiet: as rows only
(--compact-after off), and with --compact-after (the default 1d; hours more than that behind each
series' newest reading are moved into reading_chunks, chunk_codec.hpp) while it stores. Prints:

- bytes per reading of the raw tier, each way (pages of the table and its indexes, from sqlite3's
  dbstat, over the readings they hold; and the whole file over all readings);
- the database size after a year, extrapolated from the --days measured (365 / days times the
  file, less the rows kept hot, which do not grow; a year of this home is 189 million readings,
  which takes long to generate here);
- the ingest rate each way (readings / wall seconds of iots-ingest, compaction running);
- the time iots-serve takes to answer /api/readings for a day, a week, a month (and, with
  --days 365, a year) of one sensor at 1000 points, median of --repeats requests, each way.

Usage: bench/storage.py [--days 30] [--compact-after 1d] [--bin DIR] [--repeats 21]
(tools from --bin, else $IOTS_BIN, else build/tools). Never run by the test suite.

--year: the database after a year of that home with every default of iots-ingest (tiers,
retention, compaction, incremental vacuum), from two runs piped from iots-sim into iots-ingest,
each ending now (retention counts from the wall clock; --retain-force, since the history is
simulated): a year at --year-interval (default 60 s: the minute and hour rollups have exactly the
rows of a year at 5 s, as every minute of every series has readings) and the last 31 days at 5 s
(the raw tier at its steady size: 30 days are kept). The year is the rollup rows of the first run
at the second's bytes a row (a bucket of 12 readings is a little wider than one of a single
reading), its other tables (series, stats...), and the raw tables of the second, from sqlite3's
dbstat. The first run's raw tier is not used: fed as fast as it goes, iots-ingest's retention (a
few thousand rows a step between commits) is still deleting the year's old raw rows when the
input ends.
"""
import argparse
import datetime
import os
import statistics
import subprocess
import tempfile
import time
import urllib.request

from benchlib import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
DAY = 86400000
START = "2025-10-06T00:00:00Z"
START_MS = 1759708800000
PER_DAY = 5 * 6 * 17280


def tool(args, name):
    return os.path.join(args.bin, name)


def sql(db, query):
    out = subprocess.run(["sqlite3", db, query], capture_output=True, text=True, check=True).stdout
    return [line.split("|") for line in out.strip().splitlines()]


def raw_bytes(db):
    """(bytes, readings) of each raw table with its indexes: dbstat pages, rows in it."""
    pages = dict((name, int(size)) for name, size in sql(
        db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
    tables = {"readings": ["readings"], "reading_chunks": ["reading_chunks", "sqlite_autoindex_reading_chunks_1"]}
    out = {}
    for table, names in tables.items():
        if table not in pages:
            continue
        rows = int(sql(db, "SELECT count(*) FROM readings")[0][0]) if table == "readings" else \
            int(sql(db, "SELECT coalesce(sum(n), 0) FROM reading_chunks")[0][0])
        out[table] = (sum(pages.get(n, 0) for n in names), rows)
    return out


def ingest(args, sim_file, db, extra):
    t = time.monotonic()
    with open(sim_file, "rb") as f:
        subprocess.run([tool(args, "iots-ingest"), "--db", db, "--quiet", "--quiet-log"] + extra,
                       stdin=f, check=True)
    return time.monotonic() - t


def query_times(args, db, spans, end_ms):
    port = free_port()
    serve = subprocess.Popen([tool(args, "iots-serve"), "--db", db, "--listen", f"127.0.0.1:{port}",
                              "--quiet-log"],
                             stdout=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/api/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        times = {}
        for name, span in spans:
            url = (f"{base}/api/readings?device=esp32-livingroom&sensor=temperature"
                   f"&from={end_ms - span}&to={end_ms}&points=1000")
            urllib.request.urlopen(url).read()  # warm
            samples = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                urllib.request.urlopen(url).read()
                samples.append((time.perf_counter() - t) * 1000)
            times[name] = statistics.median(samples)
        return times
    finally:
        serve.terminate()
        serve.wait()


def table_pages(db):
    """{table: bytes} of every table with its indexes (dbstat), plus 'free' for free pages."""
    out = {}
    owner = dict(sql(db, "SELECT name, tbl_name FROM sqlite_schema"))
    for name, size in sql(db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
        table = owner.get(name, name)
        out[table] = out.get(table, 0) + int(size)
    page = int(sql(db, "PRAGMA page_size")[0][0])
    out["free"] = int(sql(db, "PRAGMA freelist_count")[0][0]) * page
    return out


def piped_run(args, db, start, duration, interval):
    """iots-sim | iots-ingest with the defaults; returns the wall seconds."""
    t = time.monotonic()
    sim = subprocess.Popen([tool(args, "iots-sim"), "--devices", "5", "--start", start,
                            "--duration", duration, "--interval", interval],
                           stdout=subprocess.PIPE)
    subprocess.run([tool(args, "iots-ingest"), "--db", db, "--quiet", "--quiet-log",
                    "--retain-force"], stdin=sim.stdout, check=True)
    sim.stdout.close()
    if sim.wait() != 0:
        raise SystemExit("iots-sim failed")
    return time.monotonic() - t


def year_run(args):
    work = tempfile.mkdtemp(prefix="iots-storage-year-")
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    raw = ("readings", "reading_chunks")
    runs = {}
    for name, days, interval in (("year", 365, args.year_interval), ("month", 31, "5s")):
        db = os.path.join(work, f"{name}.db")
        start = (now - datetime.timedelta(days=days)).strftime(fmt)
        seconds = piped_run(args, db, start, f"{days}d", interval)
        subprocess.run(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE)"], check=True,
                       capture_output=True)
        pages = table_pages(db)
        counts = dict(
            minute=int(sql(db, "SELECT count(*) FROM rollup_minute")[0][0]),
            hour=int(sql(db, "SELECT count(*) FROM rollup_hour")[0][0]),
            raw=int(sql(db, "SELECT count(*) FROM readings")[0][0]) +
            int(sql(db, "SELECT coalesce(sum(n), 0) FROM reading_chunks")[0][0]),
            oldest=int(sql(db, "SELECT min(first_ts) FROM series")[0][0]))
        runs[name] = dict(days=days, interval=interval, seconds=seconds,
                          file=os.path.getsize(db), pages=pages, counts=counts)
        os.remove(db)
    print(f"storage benchmark: a year of 5 nodes x 6 sensors, default tiers, ending {now.strftime(fmt)}")
    for name, r in runs.items():
        c, p = r["counts"], r["pages"]
        kept_days = (now.timestamp() * 1000 - c["oldest"]) / DAY
        print(f"  {name}: {r['days']} days at {r['interval']}, stored in {r['seconds']:.0f} s "
              f"(sim and ingest); file {r['file'] / 1e6:.1f} MB")
        print(f"    raw {c['raw']:,} readings kept (the oldest {kept_days:.1f} days old), "
              f"{sum(p.get(t, 0) for t in raw) / 1e6:.1f} MB; "
              f"rollup_minute {c['minute']:,} rows {p.get('rollup_minute', 0) / 1e6:.1f} MB; "
              f"rollup_hour {c['hour']:,} rows {p.get('rollup_hour', 0) / 1e6:.1f} MB; "
              f"free pages {p['free'] / 1e6:.1f} MB")
    y, m = runs["year"], runs["month"]
    rollups = {"rollup_minute": "minute", "rollup_hour": "hour"}
    other = y["file"] - sum(y["pages"].get(t, 0) for t in raw + tuple(rollups)) - y["pages"]["free"]
    # A bucket of readings 5 s apart is a little wider than one of a single reading (a count of
    # 12, a sum that is not a reading's value): the year's rows at the month's bytes a row.
    tiers = {t: y["counts"][k] * m["pages"][t] / m["counts"][k] for t, k in rollups.items()}
    month_raw = sum(m["pages"].get(t, 0) for t in raw)
    total = other + sum(tiers.values()) + month_raw
    print(f"  a year at 5 s: " + " + ".join(
        f"{t} {y['counts'][k]:,} rows x {m['pages'][t] / m['counts'][k]:.1f} B "
        f"= {tiers[t] / 1e6:.1f} MB" for t, k in rollups.items()) +
        f" + other tables {other / 1e6:.1f} MB + raw tables of the 31 days at 5 s "
        f"{month_raw / 1e6:.1f} MB = {total / 1e9:.3f} GB")
    subprocess.run(["rm", "-rf", work], check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--compact-after", default="1d")
    ap.add_argument("--bin", default=os.environ.get("IOTS_BIN", os.path.join(SRC, "build", "tools")))
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--year", action="store_true", help="a year of the home with the defaults")
    ap.add_argument("--year-interval", default="60s")
    args = ap.parse_args()
    if args.year:
        year_run(args)
        return
    work = tempfile.mkdtemp(prefix="iots-storage-")
    sim = os.path.join(work, "sim.ndjson")
    with open(sim, "wb") as f:
        subprocess.run([tool(args, "iots-sim"), "--devices", "5", "--start", START,
                        "--duration", f"{args.days}d"], stdout=f, check=True)
    readings = args.days * PER_DAY
    end_ms = START_MS + args.days * DAY
    spans = [("day", DAY), ("week", 7 * DAY), ("month", 30 * DAY), ("year", 365 * DAY)]
    spans = [(n, s) for n, s in spans if s <= args.days * DAY]
    results = {}
    for way, extra in (("rows", ["--compact-after", "off"]),
                       ("chunks", ["--compact-after", args.compact_after])):
        db = os.path.join(work, f"{way}.db")
        seconds = ingest(args, sim, db, extra)
        subprocess.run(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;"], check=True,
                       capture_output=True)
        size = os.path.getsize(db)
        results[way] = dict(rate=readings / seconds, size=size, raw=raw_bytes(db),
                            queries=query_times(args, db, spans, end_ms))
    print(f"storage benchmark: {args.days} days of 5 nodes x 6 sensors at 5 s ({readings:,} readings)")
    for way, r in results.items():
        for table, (nbytes, rows) in r["raw"].items():
            if rows:
                print(f"  {way}: {table} {nbytes / rows:.2f} bytes/reading ({rows:,} readings, "
                      f"{nbytes / 1e6:.1f} MB)")
        # The rows kept hot (the last --compact-after of each series) do not grow with time.
        hot = r["raw"].get("readings", (0, 0))[0] if way == "chunks" else 0
        year = (r["size"] - hot) * 365 / args.days + hot
        print(f"  {way}: file {r['size'] / readings:.2f} bytes/reading, {r['size'] / 1e6:.1f} MB; "
              f"a year extrapolated: {year / 1e9:.2f} GB")
        print(f"  {way}: ingest {r['rate'] / 1000:.0f} k readings/s")
        print(f"  {way}: /api/readings at 1000 points: " +
              ", ".join(f"{n} {ms:.1f} ms" for n, ms in r["queries"].items()))
    if args.keep:
        print(f"kept {work}")
    else:
        subprocess.run(["rm", "-rf", work], check=True)


if __name__ == "__main__":
    main()
