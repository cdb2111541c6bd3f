"""The soak's machine description and its Markdown/JSON report (soak.py)."""
import json
import platform
import subprocess


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError as e:
        return str(e)


def machine(rev, quickack, addr):
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'")
    return {
        "date_utc": sh("date -u +%Y-%m-%dT%H:%M:%SZ"),
        "nproc": int(sh("nproc") or 0),
        "cpu": cpu,
        "mem_total": sh("grep MemTotal /proc/meminfo | tr -s ' ' | cut -d' ' -f2-"),
        "kernel": platform.release(),
        "os": sh(". /etc/os-release; echo $PRETTY_NAME"),
        "otp": sh("erl -noshell -eval 'io:format(\"~s\", [erlang:system_info(otp_release)]), halt().'"),
        "erts": sh("erl -noshell -eval 'io:format(\"~s\", [erlang:system_info(version)]), halt().'"),
        "elixir": sh("elixir --version | tail -1"),
        "python": platform.python_version(),
        "cargo_lambda": sh(".venv/bin/cargo-lambda lambda --version 2>&1 | head -1"),
        "runtime_rev": rev,
        "quickack": quickack,
        "addr": addr,
    }


def fmt(x, nd=0):
    if x is None:
        return "–"
    return f"{x:,.{nd}f}"


def markdown(d):
    m = d["machine"]
    lines = [
        f"# Soak, {m['date_utc']}",
        "",
        f"Command: `{d['command']}`, runtime at `{m['runtime_rev']}` "
        f"({d.get('entry', '`bootstrap.sh`')} + `Soak.handle`, pid comm `{d['runtime_pid_comm']}`), "
        f"cargo-lambda emulator on `{m['addr']}` (quickack route: {m['quickack']}).",
        "",
        f"Machine: {m['nproc']} × {m['cpu']}, {m['mem_total']} RAM, kernel {m['kernel']}, "
        f"{m['os']}; OTP {m['otp']} (erts {m['erts']}), {m['elixir']}, Python {m['python']}, "
        f"{m['cargo_lambda']}. Load average {' '.join(d['load_start'])} at the start, "
        f"{' '.join(d['load_end'])} at the end.",
        "",
        f"{d['n']:,} mixed invocations per 100: "
        + ", ".join(f"{c} {k}" for k, c in d["mix_per_100"].items())
        + f" (shuffled per block of 100, seed {d['seed']}; large = {d['large_bytes']:,}-byte "
        f"string, slow = {d['slow_ms']} ms sleep), plus a `stats` invocation every "
        f"{d['interval']:,}: {d['invocations_total']:,} invocations in {d['elapsed_s']} s "
        f"({fmt(d['invokes_per_s'], 1)}/s), runtime CPU {d['runtime_cpu_s']} s "
        f"({d['runtime_cpu_us_per_invoke']} µs/invocation). Warm-up sample: "
        f"{d['warmup_sample']:,}.",
        "",
        f"**{'PASS' if d['pass'] else 'FAIL'}**",
        "",
        "| criterion | result | |",
        "|---|---|---|",
    ]
    for c in d["criteria"]:
        lines.append(f"| {c['name']} | {c['value']} | {'PASS' if c['pass'] else 'FAIL'} |")
    lines += ["", "Latency by kind (ms, driver side, one invocation in flight):", "",
              "| kind | count | p50 | p99 | max | stalls ≥ 30 ms beyond the kind's own time |",
              "|---|---:|---:|---:|---:|---:|"]
    for k, v in d["latency"].items():
        lines.append(f"| {k} | {v['count']:,} | {v['p50_ms']} | {v['p99_ms']} | {v['max_ms']} | "
                     f"{v['stalls_30ms']} |")
    lines += ["", "Time series (runtime process: RSS, peak RSS, OS threads, open fds, CPU; "
              "`stats`: BEAM processes, ports, ETS tables, atoms, `erlang:memory` total and "
              "binary; ok-latency of the block before the sample):", "",
              "| invocations | t s | RSS KiB | HWM KiB | threads | fds | CPU s | procs | ports | ets "
              "| atoms | memory KiB | binary KiB | emulator RSS KiB | ok p50 ms | ok p99 ms |",
              "|" + "---:|" * 16]
    for s in d["series"]:
        mem = s["memory"] // 1024 if s.get("memory") is not None else None
        binary = s["binary"] // 1024 if s.get("binary") is not None else None
        lines.append(
            f"| {s['invocations']:,} | {s['t_s']} | {fmt(s['rss_kib'])} | {fmt(s['hwm_kib'])} | "
            f"{s['threads']} | {s['fds']} | {s['cpu_s']:.2f} | {s['processes']} | {s['ports']} | "
            f"{s['ets']} | {fmt(s['atoms'])} | {fmt(mem)} | {fmt(binary)} | "
            f"{fmt(s['emulator_rss_kib'])} | {fmt(s['ok_p50_ms'], 3)} | {fmt(s['ok_p99_ms'], 3)} |")
    if d["wrong_examples"]:
        lines += ["", "Wrong outcomes (first 50):", ""]
        lines += [f"- id {w['id']} ({w['kind']}): {w['what']}" for w in d["wrong_examples"]]
    return "\n".join(lines) + "\n"


def write_reports(doc, prefix):
    with open(prefix + ".json", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    with open(prefix + ".md", "w") as f:
        f.write(markdown(doc))
