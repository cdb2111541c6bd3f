#!/usr/bin/env python3
"""Cold start of a Lambda runtime, measured from just before exec.

For each run, a Runtime API stub in this process listens on 127.0.0.1 (TCP_NODELAY
on every accepted socket), the command is started in its own session with
AWS_LAMBDA_RUNTIME_API pointing at the stub, and the stub timestamps

  next  - the first GET /runtime/invocation/next (init done, ready for work)
  resp  - the first POST /runtime/invocation/<id>/response (first invoke done)
  exit  - the process's exit (mode exit, for a bare `erl ... halt().`)

plus cpu: CPU time of the whole session (children included) at the first
response (or exit): threads' schedstat run time, or wait4's rusage for exit. With --cgroup DIR the child writes its own pid to
DIR/cgroup.procs between fork and exec (cgroup v1 cpu controller).

  coldstart.py run --label NAME --runs 11 --warmup 2 [--mode invoke|exit]
               [--cgroup /sys/fs/cgroup/cpu/NAME] [--env K=V ...] -- CMD ARGS...
  coldstart.py ab --runs 30 [--cgroup DIR] [--env K=V ...] [--event FILE]
               [--base-cmd 'CMD ARGS' --base-env K=V ... --base-label NAME] -- CMD ARGS...
               (a base and CMD alternately: bare erl to its exit by default, or
               another runtime to its first response; ratios of means and medians)
  coldstart.py rss --invocations 100 [--env K=V ...] [--event FILE] -- CMD ARGS...

--event FILE: the event every /next gets (default {"name":"Ada"}).

Prints one JSON object per call (medians, p10/p90, all samples).
"""
import argparse
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

EVENT = b'{"name":"Ada"}'
CLK = os.sysconf("SC_CLK_TCK")


class Stub:
    """A Runtime API that serves `invocations` events, then holds /next open."""

    def __init__(self, invocations=1, event=EVENT):
        self.event = event
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.invocations = invocations
        self.served = 0
        self.done = 0
        self.t_next = None
        self.t_resp = None
        self.t_all = None
        self.first_error = None
        self.lock = threading.Lock()
        self.all_done = threading.Event()
        self.first_resp = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
                length = int(headers.get("content-length", "0"))
                while len(buf) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                body, buf = buf[:length], buf[length:]
                self._handle(conn, method, path, body)
        except OSError:
            return
        finally:
            conn.close()

    def _handle(self, conn, method, path, body):
        now = time.monotonic()
        if method == "GET" and path.endswith("/runtime/invocation/next"):
            with self.lock:
                if self.t_next is None:
                    self.t_next = now
                n = self.served
                if n < self.invocations:
                    self.served += 1
            if n >= self.invocations:
                time.sleep(3600)  # hold the long poll, like Lambda between events
                return
            deadline = int(time.time() * 1000) + 30000
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                f"Lambda-Runtime-Aws-Request-Id: req-{n}\r\n"
                f"Lambda-Runtime-Deadline-Ms: {deadline}\r\n"
                "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:123456789012:function:hello\r\n"
                "Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000\r\n"
                f"Content-Length: {len(self.event)}\r\n\r\n"
            )
            conn.sendall(head.encode() + self.event)
        else:
            if "/error" in path and self.first_error is None:
                self.first_error = body.decode("utf-8", "replace")
            conn.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n")
            with self.lock:
                self.done += 1
                if self.t_resp is None:
                    self.t_resp = now
                    self.first_resp.set()
                if self.done >= self.invocations:
                    self.t_all = now
                    self.all_done.set()

    def close(self):
        self.sock.close()


def session_cpu_ms(sid):
    """CPU time of every process in session `sid`: each live thread's
    scheduler run time from /proc/PID/task/TID/schedstat (nanoseconds), plus
    the utime+stime of reaped children (clock ticks; the shell's subshells).
    Falls back to a process's utime+stime ticks where schedstat is missing.
    """
    total_ms = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) != sid:  # fields[3] is the session id (field 6)
            continue
        children = sum(int(x) for x in fields[13:15]) * 1000.0 / CLK
        own = sum(int(x) for x in fields[11:13]) * 1000.0 / CLK
        try:
            ns = 0
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    ns += int(f.read().split()[0])
            own = ns / 1e6
        except OSError:
            pass
        total_ms += own + children
    return total_ms


def start(cmd, env, cgroup):
    def pre():
        if cgroup:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))

    return subprocess.Popen(
        cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=pre,
    )


def kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def one_run(cmd, base_env, mode, cgroup, timeout=60, event=EVENT):
    if mode == "exit":
        t0 = time.monotonic()
        proc = start(cmd, base_env, cgroup)
        _, status, usage = os.wait4(proc.pid, 0)
        t = time.monotonic()
        proc.returncode = status
        cpu = (usage.ru_utime + usage.ru_stime) * 1000
        return {"exit_ms": (t - t0) * 1000, "cpu_ms": cpu}
    stub = Stub(1, event)
    env = dict(base_env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{stub.port}")
    t0 = time.monotonic()
    proc = start(cmd, env, cgroup)
    try:
        if not stub.first_resp.wait(timeout):
            raise RuntimeError(f"no response within {timeout}s (error: {stub.first_error})")
        cpu = session_cpu_ms(proc.pid)
        return {"next_ms": (stub.t_next - t0) * 1000, "resp_ms": (stub.t_resp - t0) * 1000, "cpu_ms": cpu}
    finally:
        kill(proc)
        stub.close()


def summarize(samples):
    out = {}
    for key in samples[0]:
        xs = sorted(s[key] for s in samples)
        q = statistics.quantiles(xs, n=10) if len(xs) >= 2 else [xs[0]] * 9
        out[key] = {"median": round(statistics.median(xs), 1), "mean": round(statistics.mean(xs), 1),
                    "p10": round(q[0], 1),
                    "p90": round(q[-1], 1), "samples": [round(x, 1) for x in xs]}
    return out


def parse_env(pairs):
    env = dict(os.environ)
    env.pop("AWS_LAMBDA_RUNTIME_API", None)
    for pair in pairs or []:
        k, v = pair.split("=", 1)
        env[k] = v
    return env


def read_event(path):
    if not path:
        return EVENT
    with open(path, "rb") as f:
        return f.read()


def cmd_run(a):
    env, event = parse_env(a.env), read_event(a.event)
    for _ in range(a.warmup):
        one_run(a.cmd, env, a.mode, a.cgroup, event=event)
    samples = [one_run(a.cmd, env, a.mode, a.cgroup, event=event) for _ in range(a.runs)]
    print(json.dumps({"label": a.label, "mode": a.mode, "cgroup": a.cgroup, "runs": a.runs,
                      **summarize(samples)}))


BARE_ERL = ["erl", "-noshell", "-eval", "halt()."]


def cmd_ab(a):
    """Runs a base and CMD alternately, so that both see the same machine
    and, under a quota, the same lottery of where in the CFS period each run
    starts (a boot needing 4 periods instead of 3 costs ~100 ms of wall time
    at 0.3 CPU, so medians of small samples jump between the two). The base
    is bare erl (to its exit) unless --base-cmd names another runtime (to
    its first response, with --base-env and the same event). Reports both
    and the ratios (CMD / base) of the means and of the medians: to the
    first response (`ratio_*`) and to the first /next (`next_ratio_*`)."""
    env, event = parse_env(a.env), read_event(a.event)
    if a.base_cmd:
        base_cmd, base_env, base_mode = shlex.split(a.base_cmd), parse_env(a.base_env), "invoke"
    else:
        base_cmd, base_env, base_mode = BARE_ERL, parse_env([]), "exit"
    base_end = "resp_ms" if base_mode == "invoke" else "exit_ms"
    base_next = "next_ms" if base_mode == "invoke" else "exit_ms"
    for _ in range(a.warmup):
        one_run(base_cmd, base_env, base_mode, a.cgroup, event=event)
        one_run(a.cmd, env, "invoke", a.cgroup, event=event)
    base, ours = [], []
    for _ in range(a.runs):
        base.append(one_run(base_cmd, base_env, base_mode, a.cgroup, event=event))
        ours.append(one_run(a.cmd, env, "invoke", a.cgroup, event=event))
    b, o = summarize(base), summarize(ours)
    print(json.dumps({"label": a.label, "cgroup": a.cgroup, "runs": a.runs,
                      "base_label": a.base_label or ("bare erl" if not a.base_cmd else a.base_cmd),
                      "base_mode": base_mode,
                      "ratio_of_means": round(o["resp_ms"]["mean"] / b[base_end]["mean"], 3),
                      "ratio_of_medians": round(o["resp_ms"]["median"] / b[base_end]["median"], 3),
                      "next_ratio_of_means": round(o["next_ms"]["mean"] / b[base_next]["mean"], 3),
                      "next_ratio_of_medians": round(o["next_ms"]["median"] / b[base_next]["median"], 3),
                      "cpu_ratio_of_means": round(o["cpu_ms"]["mean"] / b["cpu_ms"]["mean"], 3),
                      "base": b, "ours": o}))


def cmd_rss(a):
    env = parse_env(a.env)
    stub = Stub(a.invocations, read_event(a.event))
    env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{stub.port}"
    t0 = time.monotonic()
    proc = start(a.cmd, env, None)
    try:
        if not stub.all_done.wait(120):
            raise RuntimeError(f"only {stub.done} responses (error: {stub.first_error})")
        elapsed = stub.t_all - stub.t_resp
        time.sleep(a.idle)
        rss = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[3]) != proc.pid:
                    continue
                with open(f"/proc/{pid}/comm") as f:
                    comm = f.read().strip()
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            rss[f"{comm}[{pid}]"] = int(line.split()[1]) / 1024
            except OSError:
                continue
        print(json.dumps({"label": a.label, "invocations": a.invocations,
                          "warm_invokes_per_s": round((a.invocations - 1) / elapsed, 1) if elapsed > 0 else None,
                          "rss_mib": {k: round(v, 1) for k, v in rss.items()},
                          "rss_total_mib": round(sum(rss.values()), 1)}))
    finally:
        kill(proc)
        stub.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    r = sub.add_parser("run")
    r.add_argument("--label", required=True)
    r.add_argument("--runs", type=int, default=11)
    r.add_argument("--warmup", type=int, default=2)
    r.add_argument("--mode", choices=["invoke", "exit"], default="invoke")
    r.add_argument("--cgroup")
    r.add_argument("--env", action="append")
    r.add_argument("--event")
    r.add_argument("cmd", nargs="+")
    b = sub.add_parser("ab")
    b.add_argument("--label", default="ab")
    b.add_argument("--runs", type=int, default=30)
    b.add_argument("--warmup", type=int, default=2)
    b.add_argument("--cgroup")
    b.add_argument("--env", action="append")
    b.add_argument("--event")
    b.add_argument("--base-cmd")
    b.add_argument("--base-env", action="append")
    b.add_argument("--base-label")
    b.add_argument("cmd", nargs="+")
    s = sub.add_parser("rss")
    s.add_argument("--label", default="rss")
    s.add_argument("--invocations", type=int, default=100)
    s.add_argument("--idle", type=float, default=2.0)
    s.add_argument("--env", action="append")
    s.add_argument("--event")
    s.add_argument("cmd", nargs="+")
    a = p.parse_args()
    {"run": cmd_run, "ab": cmd_ab, "rss": cmd_rss}[a.what](a)


if __name__ == "__main__":
    sys.exit(main())
