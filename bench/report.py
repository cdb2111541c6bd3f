#!/usr/bin/env python3
"""Turns a bench/run.sh raw directory into one JSON document and a Markdown
report. Usage: report.py RAW_DIR OUT_PREFIX --command CMD [--latest PREFIX]"""
import argparse
import glob
import json
import os
import shutil
import statistics as st

WARM = ["lambda_runtime", "lambda_runtime_busywait", "lambda_runtime_acul_default", "lambda_runtime_zflags", "rust_lambda_runtime", "lambda_runtime_via_proxy", "rust_via_proxy", "awslambdaric",
        "httpc_loop", "mini_one_write", "mini_two_writes",
        "lambda_runtime@0.3cpu", "rust_lambda_runtime@0.3cpu", "awslambdaric@0.3cpu", "httpc_loop@0.3cpu"]
INIT = ["lambda_runtime", "lambda_runtime_layer", "rust_lambda_runtime", "awslambdaric", "httpc_loop", "erl_bare",
        "erl_flags", "lambda_runtime_layer@0.3cpu", "erl_bare@0.3cpu"]
QUOTA = "@0.3cpu"
WHAT = {
    "lambda_runtime": "this runtime: bootstrap.sh + Echo.handle",
    "lambda_runtime_layer": "the layer (`mix lambda.layer`) unzipped, its `bootstrap` + echo's function package",
    "lambda_runtime_busywait": "this runtime with ERL_ZFLAGS='+sbwt short +sbwtdcpu short +sbwtdio short'",
    "lambda_runtime_zflags": "this runtime with ERL_ZFLAGS=$BENCH_ERL_ZFLAGS (a variant under study)",
    "lambda_runtime_acul_default": "this runtime with ERL_ZFLAGS='+Muacul de' (the VM's default carrier abandoning)",
    "rust_lambda_runtime": "Rust `lambda_runtime` crate, echo",
    "rust_via_proxy": "the same Rust echo behind the Content-Type proxy",
    "lambda_runtime_via_proxy": "this runtime behind the proxy (which sends head and body in one write)",
    "awslambdaric": "Python awslambdaric, echo (behind the proxy)",
    "httpc_loop": "seed-style Elixir loop: :httpc + :jiffy (`elixir` script)",
    "mini_one_write": "bench/tools miniruntime: std-only echo loop, POST head+body in one write",
    "mini_two_writes": "the same, head and body in two writes (as ureq sends them)",
    "erl_bare": "`erl -noshell -eval 'halt().'` (exec to exit)",
    "erl_flags": "erlexec with bootstrap.sh's flags, `halt()` (exec to exit)",
}


def load(path):
    with open(path) as f:
        return json.load(f)


def med(xs):
    xs = [x for x in xs if x is not None]
    return st.median(xs) if xs else None


def fmt(x, nd=0):
    if x is None:
        return "–"
    return f"{x:,.{nd}f}"


def paired_ratio(mine, base, key):
    """Median over rounds of mine/base, each from the same round (adjacent in
    time, so slow phases of a shared machine hit both)."""
    b = {r["round"]: r[key] for r in base}
    return med([r[key] / b[r["round"]] for r in mine if b.get(r["round"])])


def warm_summary(raw):
    out = {}
    peers = {(name, suffix): [load(p) for p in sorted(glob.glob(f"{raw}/warm-{name}{suffix}-*.json"))]
             for name in ["rust_lambda_runtime", "httpc_loop"] for suffix in ["", QUOTA]}
    # The known rows in their order, then any other row the run has.
    found = {os.path.basename(p)[len("warm-"):].rsplit("-", 1)[0] for p in glob.glob(f"{raw}/warm-*.json")}
    for rt in WARM + sorted(found - set(WARM)):
        runs = [load(p) for p in sorted(glob.glob(f"{raw}/warm-{rt}-*.json"))]
        if not runs:
            continue
        # Quota rows are compared with the peers under the same quota.
        suffix = QUOTA if rt.endswith(QUOTA) else ""
        rust, seed = peers[("rust_lambda_runtime", suffix)], peers[("httpc_loop", suffix)]
        out[rt] = {
            "rounds": len(runs),
            "invokes_per_s": med([r["invokes_per_s"] for r in runs]),
            "invokes_per_s_best": max(r["invokes_per_s"] for r in runs),
            "vs_rust_paired": paired_ratio(runs, rust, "invokes_per_s"),
            "cpu_vs_rust_paired": paired_ratio(runs, rust, "cpu_us_per_invoke"),
            "vs_seed_paired": paired_ratio(runs, seed, "invokes_per_s"),
            "lat_us_p50": med([r["lat_us_p50"] for r in runs]),
            "lat_us_p99": med([r["lat_us_p99"] for r in runs]),
            "cpu_us_per_invoke": med([r["cpu_us_per_invoke"] for r in runs]),
            "stalls_over_30ms": sum(r["stalls_over_30ms"] for r in runs),
            "errors": sum(r["errors"] for r in runs),
            "echo_mismatches": sum(r["echo_mismatches"] for r in runs),
            "load": [f'{r["load_before"]} → {r["load_after"]}' for r in runs],
            "per_round": runs,
        }
    return out


def init_summary(raw):
    out = {}
    bare = {suffix: {p.rsplit("-", 1)[1]: load(p) for p in glob.glob(f"{raw}/init-erl_bare{suffix}-*.json")}
            for suffix in ["", QUOTA]}
    for rt in INIT:
        # Quota runs are compared with bare erl under the same quota.
        erl = bare[QUOTA if rt.endswith(QUOTA) else ""]
        runs = {p.rsplit("-", 1)[1]: load(p) for p in sorted(glob.glob(f"{raw}/init-{rt}-*.json"))}
        if not runs:
            continue
        paired = [runs[k]["ms_p50"] / erl[k]["ms_p50"] for k in runs if k in erl]
        paired_cpu = [runs[k]["cpu_ms_p50"] / erl[k]["cpu_ms_p50"] for k in runs
                      if k in erl and erl[k]["cpu_ms_p50"] and runs[k]["cpu_ms_p50"] is not None]
        runs = list(runs.values())
        samples = [s for r in runs for s in r["samples_ms"]]
        cpu = [s for r in runs for s in r["cpu_samples_ms"]]
        out[rt] = {
            "runs": len(samples),
            "ms_p50": med(samples),
            "ms_min": min(samples) if samples else None,
            "ms_max": max(samples) if samples else None,
            "cpu_ms_p50": med(cpu),
            "vs_erl_paired": med(paired),
            "cpu_vs_erl_paired": med(paired_cpu),
            "errors": [e for r in runs for e in r["errors"]],
            "samples_ms": samples,
            "cpu_samples_ms": cpu,
        }
    return out


def ratio(x):
    return f"{x:.2f}x" if x else "–"


def warm_md(w):
    lines = [
        "| runtime | invokes/s | best round | vs Rust | vs seed loop | p50 µs | p99 µs | CPU µs/invoke "
        "| CPU vs Rust | stalls ≥30 ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rt, s in w.items():
        lines.append(
            f'| {rt} | {fmt(s["invokes_per_s"])} | {fmt(s["invokes_per_s_best"])} | '
            f'{ratio(s["vs_rust_paired"])} | {ratio(s.get("vs_seed_paired"))} | '
            f'{fmt(s["lat_us_p50"])} | {fmt(s["lat_us_p99"])} | '
            f'{fmt(s["cpu_us_per_invoke"])} | {ratio(s["cpu_vs_rust_paired"])} | '
            f'{s["stalls_over_30ms"]} | {s["errors"]} |'
        )
    return lines


def init_md(i):
    lines = [
        "| runtime | median ms | vs bare erl | min ms | max ms | CPU ms (median) | CPU vs bare erl | runs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rt, s in i.items():
        lines.append(
            f'| {rt} | {fmt(s["ms_p50"], 1)} | {ratio(s["vs_erl_paired"])} | {fmt(s["ms_min"], 1)} | '
            f'{fmt(s["ms_max"], 1)} | {fmt(s["cpu_ms_p50"])} | {ratio(s["cpu_vs_erl_paired"])} | {s["runs"]} |'
        )
    return lines


def json_md(j):
    lines = [
        "| document | bytes | decode ours/s | jiffy/s | ours÷jiffy | encode ours/s | jiffy/s | ours÷jiffy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in j["corpus"] + j["large"] + j["sweep"]:
        lines.append(
            f'| {r["doc"]} | {r["bytes"]:,} | {r["decode_per_s"]["ours"]:,} | '
            f'{r["decode_per_s"]["jiffy"]:,} | {r["decode_ratio"]} | {r["encode_per_s"]["ours"]:,} | '
            f'{r["encode_per_s"]["jiffy"]:,} | {r["encode_ratio"]} |'
        )
    c = j["corpus"]
    gd = st.geometric_mean([r["decode_ratio"] for r in c])
    ge = st.geometric_mean([r["encode_ratio"] for r in c])
    lines += ["", f"Event corpus, geometric mean of ours÷jiffy: decode {gd:.2f}, encode {ge:.2f}.", ""]
    lines += ["Trivial calls (ns per call; the dirty-scheduler hop shows here):", ""]
    lines += ["| call | ns |", "|---|---:|"]
    lines += [f"| {k} | {v:,} |" for k, v in sorted(j["trivial_call_ns"].items())]
    if j.get("encode_paths"):
        lines += ["", "Encode through `LambdaRuntime.JSON.encode!/1` vs straight to the dirty NIF (calls/s):", ""]
        lines += ["| document | bytes | encode! | json_encode_dirty | ratio |", "|---|---:|---:|---:|---:|"]
        for r in j["encode_paths"]:
            lines.append(f'| {r["doc"]} | {r["bytes"]:,} | {r["api_per_s"]:,} | {r["dirty_direct_per_s"]:,} | '
                         f'{r["api_per_s"] / r["dirty_direct_per_s"]:.2f} |')
    lines += ["", "Memory of one call (bytes; process = growth of the calling process's memory, "
              "binary = growth of VM binary memory, result = flat size of the result):", ""]
    lines += ["| document | op | process | binary | result |", "|---|---|---:|---:|---:|"]
    for m in j["memory"]:
        for op in ["decode_ours", "decode_jiffy", "encode_ours", "encode_jiffy"]:
            v = m[op]
            lines.append(f'| {m["doc"]} | {op} | {v["process_bytes"]:,} | {v["binary_bytes"]:,} | '
                         f'{v["result_bytes"]:,} |')
    t = j["ticker"]
    lines += ["", f'1 ms ticker on a normal scheduler while {t["doc_bytes"]:,}-byte documents are decoded:', ""]
    lines += ["| set-up | decoder | max gap ms | p99 gap ms | ticks | decodes | ms per decode |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for setup in ["one_scheduler_one_decoder", "all_cores_busy"]:
        for who, v in t[setup].items():
            if isinstance(v, dict):
                lines.append(f'| {setup} | {who} | {v["max_gap_ms"]} | {v["p99_gap_ms"]} | {v["ticks"]} | '
                             f'{v["calls"]} | {v.get("ms_per_call") or "–"} |')
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("out")
    ap.add_argument("--command", default="bench/run.sh")
    ap.add_argument("--latest")
    a = ap.parse_args()
    machine = load(f"{a.raw}/machine.json")
    doc = {"command": a.command, "machine": machine, "warm": warm_summary(a.raw), "init": init_summary(a.raw)}
    if os.path.exists(f"{a.raw}/json.json"):
        doc["json"] = load(f"{a.raw}/json.json")
        doc["json_load"] = load(f"{a.raw}/json.load.json")
    m = machine
    md = [f'# Benchmark run {m["date_utc"]}', "", f"Command: `{a.command}`", "",
          f'Machine: {m["nproc"]} × {m["cpu"]}, kernel {m["kernel"]}, {m["os"]}; OTP {m["otp"]} '
          f'(erts {m["erts"]}), {m["elixir"]}, {m["rustc"]}, {m["python"]}; awslambdaric {m["awslambdaric"]}, '
          f'Rust lambda_runtime {m["rust_lambda_runtime"]}, {m["jiffy"]}, {m["cargo_lambda"]}.', "",
          f'Runtime under test: `{m["runtime_rev"]}` ({m["runtime_src"]}). Emulator host {m["host"]}, '
          f'quickack route: {m["quickack"]}. Warm: {m["rounds"]} round(s) of {m["n"]} invokes after '
          f'{m["warmup"]} warm-up; init: {m["runs"]} runs per round.', ""]
    def text(name):
        path = f"{a.raw}/{name}"
        return open(path).read().strip() if os.path.exists(path) else "?"

    doc["load"] = {"start": text("load-start.txt"), "end": text("load-end.txt"),
                   "init_start": text("init-load-start.txt"), "init_end": text("init-load-end.txt")}
    md += [f'Load average (1/5/15 min) at the start → end of the run: {doc["load"]["start"]} → '
           f'{doc["load"]["end"]}.', ""]
    if doc["warm"]:
        md += ["## Warm invokes (median of rounds)", "",
               "\"vs Rust\", \"vs seed loop\" and \"CPU vs Rust\": median over rounds of the ratio "
               "to the Rust echo (or the seed-style `httpc_loop`) measured in the same round. Rows "
               "@0.3cpu run the runtime inside a 0.3-CPU cgroup quota (what a 512 MB Lambda gets; "
               "the emulator, the load generator and awslambdaric's header-adding proxy stay "
               "outside it) and are compared with the peers under the same quota.", ""] + warm_md(doc["warm"])
        md += ["", "Rows: "] + [f'- {rt}: {WHAT.get(rt.removesuffix(QUOTA), rt)}'
                                 + (" (under the 0.3-CPU quota)" if rt.endswith(QUOTA) else "")
                                 for rt in doc["warm"]]
        md += ["", "Load average (1/5/15 min) before → after each round: "]
        md += [f'- {rt}: ' + "; ".join(s["load"]) for rt, s in doc["warm"].items()]
        md += [""]
    if doc["init"]:
        md += ["## Init: exec → first `GET /next` (median of all runs)", "",
               "\"vs bare erl\": median over rounds of the ratio of round medians to bare `erl` "
               "(exec → exit) in the same round (rows @0.3cpu: under a 0.3-CPU cgroup quota, "
               "against bare erl under the same quota). CPU: the run time of the process's threads "
               "at its first /next (schedstat), or of the exited child tree (bare erl).", ""] + init_md(doc["init"])
        md += ["", f'Load average before → after the init rounds: {doc["load"]["init_start"]} → '
               f'{doc["load"]["init_end"]}.', ""]
    if "json" in doc:
        md += ["## JSON: LambdaRuntime.JSON vs :jiffy (median calls/s)", ""] + json_md(doc["json"])
        md += ["", f'Load average before → after: {doc["json_load"]["before"]} → {doc["json_load"]["after"]}', ""]
    with open(f"{a.out}.json", "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
    with open(f"{a.out}.md", "w") as f:
        f.write("\n".join(md) + "\n")
    if a.latest:
        shutil.copyfile(f"{a.out}.json", f"{a.latest}.json")
        shutil.copyfile(f"{a.out}.md", f"{a.latest}.md")


if __name__ == "__main__":
    main()
