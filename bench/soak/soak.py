#!/usr/bin/env python3
"""The soak driver (bench/soak/run.sh starts it): N mixed invocations, one at
a time, through one runtime VM behind cargo-lambda's emulator, over one
keep-alive connection with TCP_NODELAY. Every answer is checked; every
INTERVAL invocations the runtime's RSS is read from /proc and the handler's
`stats` kind is invoked. Writes OUT.json (with the time series) and OUT.md;
exits 1 when a criterion fails.

soak.py --addr HOST:PORT --n N --pid RUNTIME_PID --out PREFIX [--emulator-pid PID]
        [--interval 5000] [--warmup-at 10000] [--seed 1] [--command CMD] [--rev SHA]
"""
import argparse
import collections
import http.client
import json
import os
import random
import socket
import statistics
import time

from soak_report import machine, write_reports

PATH = "/2015-03-31/functions/_/invocations"
# Per block of 100 invocations, shuffled within the block (seeded).
MIX = {"ok": 85, "raise": 10, "large": 4, "slow": 1}
LARGE_BYTES = 1_048_576
SLOW_MS = 50


class Conn(http.client.HTTPConnection):
    def connect(self):
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def proc_status(pid):
    """VmRSS, VmHWM (KiB) and Threads of a process, open fds, CPU seconds."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "Threads"):
                out[k] = int(v.split()[0])
    out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    out["cpu_s"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def schedule(n, seed):
    rng = random.Random(seed)
    block = [k for k, c in MIX.items() for _ in range(c)]
    kinds = []
    while len(kinds) < n:
        b = block[:]
        rng.shuffle(b)
        kinds.extend(b)
    return kinds[:n]


def check(kind, rid, status, body, ms):
    """(answered id or None, None when right else what is wrong)."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None, f"status {status}, body not JSON ({len(body)} bytes)"
    if not isinstance(doc, dict):
        return None, f"status {status}, body not an object: {body[:200]!r}"
    if kind == "raise":
        msg = doc.get("errorMessage", "")
        got = int(msg[5:]) if msg.startswith("boom ") and msg[5:].isdigit() else None
        if status != 500 or doc.get("errorType") != "Soak.Boom" or got != rid:
            return got, f"raise: status {status}, {body[:200]!r}"
        return got, None
    got = doc.get("id")
    if status != 200 or doc.get("kind") != kind or got != rid:
        return got, f"{kind}: status {status}, {body[:200]!r}"
    if kind == "large":
        data = doc.get("data", "")
        if len(data) != LARGE_BYTES or data != chr(97 + rid % 26) * LARGE_BYTES:
            return got, f"large: data of {len(data)} chars, not {LARGE_BYTES} x one letter"
    if kind == "slow" and ms < SLOW_MS:
        return got, f"slow: answered in {ms:.1f} ms < {SLOW_MS} ms"
    return got, None


class Driver:
    def __init__(self, addr):
        self.host, port = addr.rsplit(":", 1)
        self.port = int(port)
        self.conn = None
        self.next_id = 0
        self.sent = collections.Counter()  # kind -> invocations
        self.answers = collections.Counter()  # answered id -> times
        self.requested = []  # ids, in order
        self.wrong = []  # (id, kind, what), the first 50 kept
        self.wrong_count = 0
        self.transport_errors = 0
        self.lat = collections.defaultdict(list)  # kind -> ms

    def invoke(self, kind):
        self.next_id += 1
        rid = self.next_id
        self.requested.append(rid)
        self.sent[kind] += 1
        body = f'{{"kind":"{kind}","id":{rid}}}'.encode()
        t0 = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = Conn(self.host, self.port, timeout=120)
            self.conn.request("POST", PATH, body, {"Content-Type": "application/json"})
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            self.transport_errors += 1
            self.record_wrong(rid, kind, f"transport: {e!r}")
            self.conn.close()
            self.conn = None
            return None
        ms = (time.perf_counter() - t0) * 1000
        self.lat[kind].append(ms)
        got, what = check(kind, rid, resp.status, data, ms)
        if got is not None:
            self.answers[got] += 1
        if what:
            self.record_wrong(rid, kind, what)
            return None
        return json.loads(data) if kind == "stats" else True

    def record_wrong(self, rid, kind, what):
        self.wrong_count += 1
        if len(self.wrong) < 50:
            self.wrong.append({"id": rid, "kind": kind, "what": what})


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def sample(d, done, pid, emu_pid, t0, block_start):
    st = proc_status(pid)
    emu = proc_status(emu_pid) if emu_pid else {}
    stats = d.invoke("stats") or {}
    now = time.perf_counter()
    ok_lat = d.lat["ok"][block_start:]
    return {
        "invocations": done,
        "t_s": round(now - t0, 2),
        "rss_kib": st["VmRSS"],
        "hwm_kib": st["VmHWM"],
        "threads": st["Threads"],
        "fds": st["fds"],
        "cpu_s": st["cpu_s"],
        "emulator_rss_kib": emu.get("VmRSS"),
        **{k: stats.get(k) for k in ("processes", "ports", "ets", "atoms", "memory", "binary")},
        "ok_p50_ms": round(statistics.median(ok_lat), 3) if ok_lat else None,
        "ok_p99_ms": round(pct(ok_lat, 99), 3) if ok_lat else None,
    }


def criteria(d, series, warm):
    """[(name, value text, passed)]."""
    lost = [i for i in d.requested if d.answers[i] == 0]
    dup = [i for i, c in d.answers.items() if c > 1]
    foreign = [i for i in d.answers if i < 1 or i > d.next_id]
    end = series[-1]
    w = next((s for s in series if s["invocations"] >= warm), series[0])
    growth = (end["rss_kib"] - w["rss_kib"]) / w["rss_kib"] * 100
    out = [
        ("0 lost", f"{len(lost)} lost{' e.g. ' + str(lost[:5]) if lost else ''}", not lost),
        ("0 duplicated", f"{len(dup)} duplicated, {len(foreign)} foreign", not dup and not foreign),
        ("0 wrong outcomes", f"{d.wrong_count} wrong ({d.transport_errors} transport)",
         d.wrong_count == 0),
        ("RSS growth < 5 % (warm-up to end)",
         f"{w['rss_kib']} KiB at {w['invocations']} -> {end['rss_kib']} KiB at "
         f"{end['invocations']}: {growth:+.2f} %", growth < 5.0),
    ]
    for k in ("processes", "ports", "ets"):
        a, b = w.get(k), end.get(k)
        out.append((f"no growth in {k}", f"{a} at {w['invocations']} -> {b} at {end['invocations']}",
                    a is not None and b is not None and b <= a))
    return out, {"lost": len(lost), "duplicated": len(dup), "foreign": len(foreign),
                 "rss_growth_pct": round(growth, 3), "warmup_sample": w["invocations"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--emulator-pid", type=int)
    ap.add_argument("--interval", type=int)
    ap.add_argument("--warmup-at", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--command", default="bench/soak/run.sh")
    ap.add_argument("--rev", default="")
    ap.add_argument("--entry", default="`bootstrap.sh`", help="what runs the VM, for the report")
    ap.add_argument("--quickack", default="")
    a = ap.parse_args()
    interval = a.interval or max(1, min(5000, a.n // 20))
    warm = a.warmup_at if a.warmup_at is not None else min(2 * interval, a.n)
    kinds = schedule(a.n, a.seed)
    d = Driver(a.addr)
    info = machine(a.rev, a.quickack, a.addr)
    load_start = open("/proc/loadavg").read().split()[:3]

    # The first invocation waits for the runtime's first /next (its init).
    t_init = time.perf_counter()
    first = d.invoke("stats")
    init_ms = (time.perf_counter() - t_init) * 1000
    with open(f"/proc/{a.pid}/comm") as f:
        comm = f.read().strip()
    t0 = time.perf_counter()
    series = [dict(sample(d, 0, a.pid, a.emulator_pid, t0, 0), t_s=0.0)]
    block_start = 0
    for i, kind in enumerate(kinds, 1):
        d.invoke(kind)
        if i % interval == 0 or i == a.n:
            s = sample(d, i, a.pid, a.emulator_pid, t0, block_start)
            block_start = len(d.lat["ok"])
            series.append(s)
            print(f"{i:>7} {s['t_s']:>7.1f}s rss {s['rss_kib']} KiB procs {s['processes']} "
                  f"ports {s['ports']} ets {s['ets']} wrong {d.wrong_count}", flush=True)
    elapsed = time.perf_counter() - t0
    crit, summary = criteria(d, series, warm)
    # A stall: 30 ms or more beyond what the kind asks for (a delayed ACK is 40 ms).
    lat = {k: {"count": len(v), "p50_ms": round(statistics.median(v), 3),
               "p99_ms": round(pct(v, 99), 3), "max_ms": round(max(v), 3),
               "stalls_30ms": sum(x - (SLOW_MS if k == "slow" else 0) >= 30 for x in v)}
           for k, v in d.lat.items() if v}
    cpu = series[-1]["cpu_s"] - series[0]["cpu_s"]
    doc = {
        "command": a.command, "entry": a.entry, "machine": info, "runtime_pid_comm": comm,
        "load_start": load_start, "load_end": open("/proc/loadavg").read().split()[:3],
        "n": a.n, "mix_per_100": MIX, "seed": a.seed, "interval": interval, "warmup_at": warm,
        "large_bytes": LARGE_BYTES, "slow_ms": SLOW_MS, "first_invoke_ms": round(init_ms, 1),
        "first_stats": first if isinstance(first, dict) else None,
        "elapsed_s": round(elapsed, 1), "invocations_total": d.next_id,
        "invokes_per_s": round((d.next_id - 1) / elapsed, 1),
        "runtime_cpu_s": round(cpu, 2),
        "runtime_cpu_us_per_invoke": round(cpu / (d.next_id - 1) * 1e6, 1),
        "sent": dict(d.sent), **summary, "wrong": d.wrong_count,
        "transport_errors": d.transport_errors, "wrong_examples": d.wrong,
        "latency": lat,
        "criteria": [{"name": n, "value": v, "pass": p} for n, v, p in crit],
        "pass": all(p for _, _, p in crit), "series": series,
    }
    write_reports(doc, a.out)
    for n, v, p in crit:
        print(f"{'PASS' if p else 'FAIL'}  {n}: {v}")
    print(f"{'PASS' if doc['pass'] else 'FAIL'}: wrote {a.out}.md and .json")
    return 0 if doc["pass"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
