#!/usr/bin/env python3
"""Runs the documentation: every command block of README.md and every block of the EXAMPLES
section of each man page, as a newcomer would type it, so an example that drifts fails CI.

Called by docs_examples.sh with the tools on PATH. Each document runs in a scratch directory of
its own, its blocks in order, so a block may use the files an earlier one made. The man pages'
examples name a few files a reader would have by then; the directory starts with them (the kit:
see make_kit). README.md starts empty: it must create what it uses.

Each block runs with bash -eu (no pipefail: as typed at a prompt). It passes when it exits 0 and writes no "error:" line
on stderr. A comment just above a block changes that (`<!-- doc-test: ... -->` in Markdown,
`; doc-test: ...` in scdoc):
  skip REASON     not run (REASON says why, and is required)
  service         a program that runs until stopped: it must come up and keep running while
                  the later blocks run (they may talk to it), and exit on SIGTERM (sent to its
                  process group) when the document ends, or when a later service that runs
                  iots-serve needs the HTTP port
  expect REGEX    its standard output must match REGEX (Python re.search, multiline)
Rewrites, so nothing reaches the real network or a fixed port: `-h localhost` names the private
broker of this run, port 8080 becomes a free port (iots-serve without --listen gets one), and any
other host in a URL is refused unless it is home.example (which the examples never fetch).
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time

BLOCK_TIMEOUT = 120  # seconds; a block that takes longer is a failure (a forgotten `service`)
SERVICE_SETTLE = 2   # seconds a service must keep running before the next block


class Block:
    def __init__(self, doc, line, code, notes):
        self.doc, self.line, self.code, self.notes = doc, line, code, notes

    def where(self):
        return f"{os.path.basename(self.doc)}:{self.line}"

    def note(self, key):
        for n in self.notes:
            if n == key or n.startswith(key + " "):
                return n[len(key):].strip()
        return None


def notes_above(lines, i, prefix):
    """The doc-test notes on the lines just above line i (blank lines between are allowed)."""
    notes = []
    j = i - 1
    while j >= 0 and (not lines[j].strip() or prefix(lines[j]) is not None):
        n = prefix(lines[j])
        if n is not None:
            notes.append(n)
        j -= 1
    return notes


def md_note(line):
    m = re.match(r"\s*<!--\s*doc-test:\s*(.*?)\s*-->\s*$", line)
    return m.group(1) if m else None


def scd_note(line):
    m = re.match(r";\s*doc-test:\s*(.*?)\s*$", line)
    return m.group(1) if m else None


def fenced_blocks(path, lines, start, end, note):
    """Fenced ``` blocks between lines start and end; a fence with a language other than a
    shell's is documentation, not a command, and is left out."""
    blocks, i = [], start
    while i < end:
        m = re.match(r"```\s*(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while j < end and not lines[j].startswith("```"):
            j += 1
        if j >= end:
            sys.exit(f"{path}:{i + 1}: a ``` block is not closed")
        if m.group(1) in ("", "sh", "bash", "shell"):
            blocks.append(Block(path, i + 1, "\n".join(lines[i + 1:j]) + "\n",
                                notes_above(lines, i, note)))
        i = j + 1
    return blocks


def readme_blocks(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    return fenced_blocks(path, lines, 0, len(lines), md_note)


def man_blocks(path):
    """The EXAMPLES blocks of an scdoc page, as man(1) shows them: scdoc reads a backslash as an
    escape even in a literal block (\\\\ is one backslash)."""
    lines = open(path, encoding="utf-8").read().split("\n")
    starts = [i for i, l in enumerate(lines) if l.strip() == "# EXAMPLES"]
    if not starts:
        return []
    start = starts[0] + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("# ")), len(lines))
    inside = False
    for i in range(start, end):
        if lines[i].startswith("```"):
            inside = not inside
        elif not inside and lines[i].startswith("\t"):
            sys.exit(f"{path}:{i + 1}: an indented example renders as one joined line in man(1): "
                     "put it in a ``` block")
    blocks = fenced_blocks(path, lines, start, end, scd_note)
    for b in blocks:
        b.code = re.sub(r"\\(.)", r"\1", b.code)
    return blocks


def rewrite(code, broker_port, http_port):
    code = re.sub(r"-h localhost\b", f"-h 127.0.0.1 -p {broker_port}", code)
    code = re.sub(r"\b(localhost|127\.0\.0\.1|0\.0\.0\.0):8080\b", f"127.0.0.1:{http_port}", code)
    code = re.sub(r"\biots-serve\b(?![^\n]*--listen)", f"iots-serve --listen 127.0.0.1:{http_port}",
                  code)
    for host in re.findall(r"(?:https?://)?\b([a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+)/", code):
        if host not in ("127.0.0.1", "home.example") and not host.endswith((".db", ".ndjson")):
            sys.exit(f"an example names the host {host}: the test may not reach it")
    return code


def errors_in(text):
    return [l for l in text.splitlines() if re.search(r"(^|: )error:", l)]


class Runner:
    def __init__(self, work, broker_port, http_port):
        self.work, self.broker_port, self.http_port = work, broker_port, http_port
        self.failures, self.ran, self.skipped = [], 0, []

    def fail(self, block, why, out="", err=""):
        detail = "".join(f"\n    | {l}" for l in (out + err).splitlines()[-15:])
        self.failures.append(f"{block.where()}: {why}\n    $ " +
                             block.code.strip().replace("\n", "\n    $ ") + detail)

    def stop(self, service):
        block, proc, log = service
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            self.fail(block, "did not stop within 10 s of SIGTERM")
        err = open(log, encoding="utf-8", errors="replace").read()
        if errors_in(err):
            self.fail(block, "wrote an error while it ran", err=err)

    def run_document(self, name, blocks, cwd):
        services = []
        for n, block in enumerate(blocks):
            skip = block.note("skip")
            if skip is not None:
                if not skip:
                    self.fail(block, "doc-test: skip needs a reason")
                self.skipped.append(f"{block.where()}: {skip}")
                continue
            code = rewrite(block.code, self.broker_port, self.http_port)
            self.ran += 1
            started = time.monotonic()
            if block.note("service") is not None:
                if "iots-serve" in code:
                    for s in [s for s in services if "iots-serve" in s[0].code]:
                        self.stop(s)
                        services.remove(s)
                log = os.path.join(self.work, f"{name}-{n}.log")
                proc = subprocess.Popen(["bash", "-eu", "-c", code], cwd=cwd,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=open(log, "w"), start_new_session=True)
                if "iots-serve" in code:
                    wait_port(self.http_port, proc)
                time.sleep(SERVICE_SETTLE)
                if proc.poll() is not None:
                    err = open(log, encoding="utf-8", errors="replace").read()
                    self.fail(block, f"a service that exited at once (status {proc.returncode})",
                              err=err)
                else:
                    services.append((block, proc, log))
                continue
            proc = subprocess.Popen(["bash", "-eu", "-c", code], cwd=cwd,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, start_new_session=True)
            try:
                out, err = proc.communicate(timeout=BLOCK_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                self.fail(block, f"still running after {BLOCK_TIMEOUT} s (a service?)")
                continue
            r = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
            print(f"{block.where()}: {time.monotonic() - started:.1f} s", flush=True)
            if r.returncode != 0:
                self.fail(block, f"exit status {r.returncode}", r.stdout, r.stderr)
            elif errors_in(r.stderr):
                self.fail(block, "an error on stderr", r.stdout, r.stderr)
            else:
                expect = block.note("expect")
                if expect and not re.search(expect, r.stdout, re.M):
                    self.fail(block, f"output does not match /{expect}/", r.stdout, r.stderr)
        for s in services:
            self.stop(s)


def wait_port(port, proc):
    import socket
    for _ in range(200):
        if proc.poll() is not None:
            return
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)


def make_kit(kit):
    """The files the man pages' examples name: home.db (two simulated days with alerts),
    home.model (trained on them), day.ndjson and readings.ndjson (the next day, with a fire and a
    gas leak), anomalies.ndjson (iots-detect's anomalies of that day)."""
    os.makedirs(kit, exist_ok=True)
    script = """
        iots-sim --devices 3 --duration 2d --seed 7 | iots-ingest --db home.db --quiet --quiet-log
        iots-train --db home.db --model home.model --quiet-log
        iots-sim --devices 3 --start 2025-10-08T00:00:00Z --duration 1d --seed 7 \
            --incident fire@6h/esp32-kitchen --incident gas-leak@15h/esp32-kitchen > day.ndjson
        cp day.ndjson readings.ndjson
        iots-detect --model home.model --anomalies-only --quiet-log < day.ndjson > anomalies.ndjson
        iots-alert --replay --db home.db --quiet-log < anomalies.ndjson > /dev/null
    """
    subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=kit, check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--broker-port", type=int, required=True)
    ap.add_argument("--http-port", type=int, required=True)
    a = ap.parse_args()
    runner = Runner(a.work, a.broker_port, a.http_port)
    kit = os.path.join(a.work, "kit")
    make_kit(kit)
    docs = [("README", readme_blocks(os.path.join(a.src, "README.md")), False)]
    man = os.path.join(a.src, "man")
    for f in sorted(os.listdir(man)):
        if f.endswith(".scd"):
            docs.append((f[:-4], man_blocks(os.path.join(man, f)), True))
    for name, blocks, with_kit in docs:
        cwd = os.path.join(a.work, name)
        if with_kit:
            subprocess.run(["cp", "-a", kit, cwd], check=True)
        else:
            os.makedirs(cwd)
        runner.run_document(name, blocks, cwd)
        print(f"{name}: {len(blocks)} blocks", flush=True)
    for s in runner.skipped:
        print(f"skipped {s}")
    if runner.failures:
        print("\n".join(runner.failures), file=sys.stderr)
        sys.exit(f"{len(runner.failures)} of {runner.ran} examples failed")
    if runner.ran < 20:
        sys.exit(f"only {runner.ran} examples ran: the extraction lost some")
    print(f"{runner.ran} examples ran, {len(runner.skipped)} skipped")


if __name__ == "__main__":
    main()
