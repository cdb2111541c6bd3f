#!/usr/bin/env python3
"""Turns a bench/run.sh raw directory into one JSON document and a Markdown
report. Usage: report.py RAW_DIR OUT_PREFIX --command CMD [--latest PREFIX]"""
import argparse
import glob
import json
import os
import shutil
import statistics as st

import report_otp

QUOTA = "@0.3cpu"
VARIANTS = ["jit", "emu", "host", "otp27", "otp27jit"]
LAYERS = [f"layer_{v}" for v in VARIANTS]
LAYERS_HEAVY = [f"layer_{v}_heavy" for v in VARIANTS]
WARM = (["lambda_runtime", "lambda_runtime_busywait", "lambda_runtime_acul_default", "lambda_runtime_zflags"]
        + LAYERS + ["rust_lambda_runtime", "lambda_runtime_via_proxy", "rust_via_proxy", "awslambdaric",
                    "httpc_loop", "mini_one_write", "mini_two_writes"] + LAYERS_HEAVY
        + [r + QUOTA for r in ["lambda_runtime"] + LAYERS + ["rust_lambda_runtime", "awslambdaric", "httpc_loop"]
           + LAYERS_HEAVY])
INIT = (["lambda_runtime"] + LAYERS + LAYERS_HEAVY + ["rust_lambda_runtime", "awslambdaric", "httpc_loop",
                                                      "erl_bare", "erl_flags"]
        + [r + QUOTA for r in LAYERS + LAYERS_HEAVY + ["erl_bare"]])
WHAT = {
    "lambda_runtime": "this runtime: bootstrap.sh + Echo.handle",
    "layer_jit": "the portable layer, JIT (`mix lambda.layer --flavor jit`, ERTS built with zig): "
                 "its `bootstrap` + echo's function package, Echo.handle",
    "layer_emu": "the portable layer, interpreter (`mix lambda.layer --flavor emu`, ERTS built with zig): "
                 "its `bootstrap`, Echo.handle",
    "layer_host": "the Debian-built layer (`mix lambda.layer --erts host --force --glibc <host's>`: Debian's "
                  "ERTS, JIT, and a shlib/ of host libraries): its `bootstrap`, Echo.handle",
    "layer_jit_heavy": "layer_jit with Heavy.handle (~100 KB event, every record transformed in Elixir)",
    "layer_emu_heavy": "layer_emu with Heavy.handle",
    "layer_host_heavy": "layer_host with Heavy.handle",
    "layer_otp27": "the portable layer of OTP 27, interpreter (`mix lambda.layer --flavor emu` in the Debian 13 "
                   "root: Elixir 1.18, OTP 27): its `bootstrap` + echo's function package compiled there, Echo.handle",
    "layer_otp27jit": "the same, JIT (`--flavor jit`), Echo.handle",
    "layer_otp27_heavy": "layer_otp27 with Heavy.handle (response checked against the one computed on OTP 27)",
    "layer_otp27jit_heavy": "layer_otp27jit with Heavy.handle",
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


def mean(xs):
    xs = [x for x in xs if x is not None]
    return st.mean(xs) if xs else None


def init_summary(raw):
    out = {}
    bare = {suffix: {p.rsplit("-", 1)[1]: load(p) for p in glob.glob(f"{raw}/init-erl_bare{suffix}-*.json")}
            for suffix in ["", QUOTA]}
    found = {os.path.basename(p)[len("init-"):].rsplit("-", 1)[0] for p in glob.glob(f"{raw}/init-*.json")}
    for rt in INIT + sorted(found - set(INIT)):
        # Quota runs are compared with bare erl under the same quota.
        erl = bare[QUOTA if rt.endswith(QUOTA) else ""]
        runs = {p.rsplit("-", 1)[1]: load(p) for p in sorted(glob.glob(f"{raw}/init-{rt}-*.json"))}
        if not runs:
            continue
        paired = [runs[k]["ms_p50"] / erl[k]["ms_p50"] for k in runs if k in erl]
        paired_resp = [runs[k]["resp_ms_p50"] / erl[k]["ms_p50"] for k in runs
                       if k in erl and runs[k].get("resp_ms_p50") is not None]
        paired_cpu = [runs[k]["cpu_ms_p50"] / erl[k]["cpu_ms_p50"] for k in runs
                      if k in erl and erl[k]["cpu_ms_p50"] and runs[k]["cpu_ms_p50"] is not None]
        runs = list(runs.values())
        samples = [s for r in runs for s in r["samples_ms"]]
        cpu = [s for r in runs for s in r["cpu_samples_ms"]]
        resp = [s for r in runs for s in r.get("resp_samples_ms", [])]
        resp_cpu = [s for r in runs for s in r.get("resp_cpu_samples_ms", [])]
        out[rt] = {
            "runs": len(samples),
            "ms_p50": med(samples),
            "ms_mean": mean(samples),
            "ms_min": min(samples) if samples else None,
            "ms_max": max(samples) if samples else None,
            "cpu_ms_p50": med(cpu),
            "cpu_ms_mean": mean(cpu),
            "vs_erl_paired": med(paired),
            "cpu_vs_erl_paired": med(paired_cpu),
            "resp_ms_p50": med(resp),
            "resp_ms_mean": mean(resp),
            "resp_vs_erl_paired": med(paired_resp),
            "resp_cpu_ms_p50": med(resp_cpu),
            "resp_cpu_ms_mean": mean(resp_cpu),
            "errors": [e for r in runs for e in r["errors"]],
            "samples_ms": samples,
            "cpu_samples_ms": cpu,
            "resp_samples_ms": resp,
            "resp_cpu_samples_ms": resp_cpu,
        }
    return out


def ab_summary(raw):
    """initbench ab results: ROW vs BASE, alternating runs."""
    out = {}
    for p in sorted(glob.glob(f"{raw}/ab-*.json")):
        d = load(p)
        name = os.path.basename(p)[len("ab-"):-len(".json")]
        row, base = name.split("-vs-")
        b, o = d["base"], d["ours"]
        end = "resp_ms" if d["base_mode"] == "invoke" else "exit_ms"
        nxt = "next_ms" if d["base_mode"] == "invoke" else "exit_ms"
        out[name] = {
            "row": row, "base": base, "runs": d["runs"], "base_mode": d["base_mode"],
            "base_next_ms_mean": b[nxt]["mean"], "base_resp_ms_mean": b[end]["mean"],
            "base_resp_ms_median": b[end]["median"], "base_cpu_ms_mean": b["cpu_ms"]["mean"],
            "next_ms_mean": o["next_ms"]["mean"], "resp_ms_mean": o["resp_ms"]["mean"],
            "resp_ms_median": o["resp_ms"]["median"], "cpu_ms_mean": o["cpu_ms"]["mean"],
            "next_ratio_of_means": d["next_ratio_of_means"], "ratio_of_means": d["ratio_of_means"],
            "ratio_of_medians": d["ratio_of_medians"], "cpu_ratio_of_means": d["cpu_ratio_of_means"],
            "raw": d,
        }
    return out


def rss_summary(raw):
    """initbench rss results: idle RSS after 100 invocations, per row."""
    rows = {}
    for p in sorted(glob.glob(f"{raw}/rss-*.json")):
        d = load(p)
        rows.setdefault(d["label"], []).append(d)
    out = {}
    for rt in [r for r in LAYERS + LAYERS_HEAVY if r in rows] + sorted(set(rows) - set(LAYERS + LAYERS_HEAVY)):
        rs = rows[rt]
        beam = [v for r in rs for k, v in r["rss_mib"].items() if k.startswith("beam")]
        out[rt] = {"runs": len(rs), "beam_mib_p50": med(beam), "total_mib_p50": med([r["rss_total_mib"] for r in rs]),
                   "total_mib_max": max(r["rss_total_mib"] for r in rs),
                   "warm_invokes_per_s_p50": med([r["warm_invokes_per_s"] for r in rs]), "per_run": rs}
    return out


def breakeven(warm, init, ab):
    """For each handler and condition: the warm invocations per cold start
    at which the JIT's per-invocation saving (emu - jit, warm) pays back its
    extra cold start (jit - emu, exec -> first response), in CPU and in wall
    time. The cold-start difference comes from the interleaved A/B means
    when the run has them, else from the init rows' means. The OTP 27
    layers (bench/otp.sh) get their own rows, "(OTP 27)"."""
    out = []
    for (jit_layer, emu_layer, otp), (handler, suffix) in [
            (p, h) for p in [("layer_jit", "layer_emu", ""), ("layer_otp27jit", "layer_otp27", " (OTP 27)")]
            for h in [("echo", ""), ("heavy", "_heavy")]]:
        handler += otp
        for cond in ["", QUOTA]:
            jit, emu = f"{jit_layer}{suffix}{cond}", f"{emu_layer}{suffix}{cond}"
            if jit not in warm or emu not in warm:
                continue
            wj, we = warm[jit], warm[emu]
            pair = ab.get(f"{emu}-vs-{jit}")
            if pair:
                source = f"A/B, {pair['runs']} alternating runs each"
                d_cpu = pair["base_cpu_ms_mean"] - pair["cpu_ms_mean"]
                d_wall = pair["base_resp_ms_mean"] - pair["resp_ms_mean"]
            elif jit in init and emu in init and init[jit]["resp_ms_mean"] is not None:
                source = f"init rows, {init[jit]['runs']} runs each"
                d_cpu = init[jit]["resp_cpu_ms_mean"] - init[emu]["resp_cpu_ms_mean"]
                d_wall = init[jit]["resp_ms_mean"] - init[emu]["resp_ms_mean"]
            else:
                continue
            s_cpu = we["cpu_us_per_invoke"] - wj["cpu_us_per_invoke"]
            s_wall = 1e6 / we["invokes_per_s"] - 1e6 / wj["invokes_per_s"]
            out.append({"handler": handler, "condition": "0.3 CPU" if cond else "unconstrained",
                        "source": source,
                        "init_extra_cpu_ms": d_cpu, "saving_cpu_us": s_cpu, "breakeven_cpu": paid_back(d_cpu, s_cpu),
                        "init_extra_wall_ms": d_wall, "saving_wall_us": s_wall,
                        "breakeven_wall": paid_back(d_wall, s_wall)})
    return out


def paid_back(extra_ms, saving_us):
    """Where the two flavors' total costs cross, for a cold start followed
    by N warm invocations: JIT = emu + extra_ms - N * saving_us / 1000.
    Returns {"invocations": N or None, "cheaper_beyond": flavor cheaper
    above N, "text": for the table}."""
    if extra_ms > 0 and saving_us > 0:
        n = extra_ms * 1000 / saving_us
        return {"invocations": n, "cheaper_beyond": "jit", "text": f"{n:,.0f} (JIT beyond)"}
    if extra_ms > 0:
        return {"invocations": None, "cheaper_beyond": "emu", "text": "never (emu throughout)"}
    if saving_us >= 0:
        return {"invocations": 0, "cheaper_beyond": "jit", "text": "0 (JIT throughout)"}
    n = extra_ms * 1000 / saving_us
    return {"invocations": n, "cheaper_beyond": "emu", "text": f"{n:,.0f} (emu beyond)"}


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
        "| runtime | → /next ms | vs bare erl | → first response ms | vs bare erl | min–max → /next ms "
        "| CPU ms at /next | CPU vs bare erl | CPU ms at response | runs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rt, s in i.items():
        lines.append(
            f'| {rt} | {fmt(s["ms_p50"], 1)} | {ratio(s["vs_erl_paired"])} | {fmt(s["resp_ms_p50"], 1)} | '
            f'{ratio(s["resp_vs_erl_paired"])} | {fmt(s["ms_min"], 1)}–{fmt(s["ms_max"], 1)} | '
            f'{fmt(s["cpu_ms_p50"])} | {ratio(s["cpu_vs_erl_paired"])} | {fmt(s["resp_cpu_ms_p50"])} | {s["runs"]} |'
        )
    errors = {rt: s["errors"] for rt, s in i.items() if s["errors"]}
    for rt, errs in errors.items():
        lines.append(f"\nErrors of {rt} ({len(errs)}): {errs[0][:200]}")
    return lines


def ab_md(ab):
    lines = [
        "| row | base | runs each | base → first response, mean ms | row, mean ms | row ÷ base, means "
        "| of medians | → /next ÷ base | base CPU ms, mean | row CPU ms | CPU ÷ base |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in ab.values():
        lines.append(
            f'| {s["row"]} | {s["base"]} | {s["runs"]} | {fmt(s["base_resp_ms_mean"], 1)} | '
            f'{fmt(s["resp_ms_mean"], 1)} | {ratio(s["ratio_of_means"])} | {ratio(s["ratio_of_medians"])} | '
            f'{ratio(s["next_ratio_of_means"])} | {fmt(s["base_cpu_ms_mean"])} | {fmt(s["cpu_ms_mean"])} | '
            f'{ratio(s["cpu_ratio_of_means"])} |'
        )
    return lines


def rss_md(rss):
    lines = ["| row | beam.smp MiB (median) | all processes MiB (median) | max | runs |",
             "|---|---:|---:|---:|---:|"]
    for rt, s in rss.items():
        lines.append(f'| {rt} | {fmt(s["beam_mib_p50"], 1)} | {fmt(s["total_mib_p50"], 1)} | '
                     f'{fmt(s["total_mib_max"], 1)} | {s["runs"]} |')
    return lines


def breakeven_md(rows):
    lines = ["| handler | condition | JIT's extra cold-start CPU ms | its CPU saving µs/invoke "
             "| break-even (CPU), invokes | extra cold-start wall ms | wall saving µs/invoke "
             "| break-even (wall), invokes | cold start from |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f'| {r["handler"]} | {r["condition"]} | {r["init_extra_cpu_ms"]:.1f} | '
                     f'{r["saving_cpu_us"]:.1f} | {r["breakeven_cpu"]["text"]} | {r["init_extra_wall_ms"]:.1f} | '
                     f'{r["saving_wall_us"]:.1f} | {r["breakeven_wall"]["text"]} | {r["source"]} |')
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
    doc = {"command": a.command, "machine": machine, "warm": warm_summary(a.raw), "init": init_summary(a.raw),
           "ab": ab_summary(a.raw), "rss": rss_summary(a.raw),
           "layers": {os.path.basename(p)[len("layer-"):-len(".json")]: load(p)
                      for p in sorted(glob.glob(f"{a.raw}/layer-*.json"))}}
    doc["breakeven"] = breakeven(doc["warm"], doc["init"], doc["ab"])
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
          f'{m["warmup"]} warm-up'
          + (f' (*_heavy rows: {m["n_heavy"]} after {m["warmup_heavy"]})' if "n_heavy" in m else "")
          + f'; init: {m["runs"]} runs per round.', ""]
    if doc["layers"]:
        md += ["Layer variants (from each zip's manifest): "
               + "; ".join(f'{v}: OTP {l.get("otp")}, Elixir {l.get("elixir")}, erts_build {l.get("erts_build")}, '
                           f'flavor {l.get("flavor")}, glibc {l.get("glibc")}'
                           + (", forced" if l.get("forced") else "")
                           for v, l in doc["layers"].items()) + ".", ""]
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
        md += ["## Init: exec → first `GET /next` and → first response (median of all runs)", "",
               "The stub answers the first /next with one event (the row's handler's) and stops the "
               "clock at the first response. \"vs bare erl\": median over rounds of the ratio of round "
               "medians to bare `erl` (exec → exit) in the same round (rows @0.3cpu: under a 0.3-CPU "
               "cgroup quota, against bare erl under the same quota). CPU: the run time of the "
               "process's threads at its first /next and at its first response (schedstat), or of the "
               "exited child tree (bare erl).", ""] + init_md(doc["init"])
        md += ["", f'Load average before → after the init rounds: {doc["load"]["init_start"]} → '
               f'{doc["load"]["init_end"]}.', ""]
    if doc["ab"]:
        md += ["## Init, interleaved A/B: exec → first response, run after run (means)", "",
               "`initbench ab` (bench/tools): the base and the row alternately, so both see the same "
               "machine and, under the quota, the same lottery of where in the CFS period a boot starts "
               "(medians jump by a period, ~100 ms; means compare better). Bare erl is timed exec → exit; "
               "a layer base exec → first response. CPU: the runtime's process group at the first response "
               "(schedstat).", ""] + ab_md(doc["ab"])
        md += ["", f'Load average before → after the A/B runs: {text("ab-load-start.txt")} → '
               f'{text("ab-load-end.txt")}.', ""]
    if doc["rss"]:
        md += ["## Idle RSS after 100 invocations (2 s idle)", "",
               "`initbench rss` (bench/tools): VmRSS of every process of the runtime's group (beam.smp, and "
               "erl_child_setup when it runs).", ""] + rss_md(doc["rss"]) + [""]
    if doc["breakeven"]:
        md += ["## Break-even: warm invocations per cold start before the JIT pays back", "",
               "Per handler and condition: the JIT layer's extra cold start (layer_jit − layer_emu, "
               "exec → first response; CPU and wall) ÷ its saving per warm invocation (layer_emu − "
               "layer_jit: CPU µs per invocation, and wall time per invocation = 1 / invokes/s, medians "
               "of the warm rounds). Below that many invocations per cold start the interpreter costs "
               "less in all; above it the JIT does (\"JIT beyond\"). \"never\": the JIT's cold start is "
               "dearer and it saves nothing per invocation; \"0\": its cold start is no dearer and it "
               "costs no more per invocation; \"emu beyond\": its cold start is cheaper but each "
               "invocation dearer.", ""] + breakeven_md(doc["breakeven"]) + [""]
    if "json" in doc:
        on = f' on OTP {m["otp"]} (the host)' if os.path.exists(f"{a.raw}/json-otp27.json") else ""
        md += [f"## JSON: LambdaRuntime.JSON vs :jiffy{on} (median calls/s)", ""] + json_md(doc["json"])
        md += ["", f'Load average before → after: {doc["json_load"]["before"]} → {doc["json_load"]["after"]}', ""]
    md += report_otp.section(a.raw, doc, json_md)
    with open(f"{a.out}.json", "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
    with open(f"{a.out}.md", "w") as f:
        f.write("\n".join(md) + "\n")
    if a.latest:
        shutil.copyfile(f"{a.out}.json", f"{a.latest}.json")
        shutil.copyfile(f"{a.out}.md", f"{a.latest}.md")


if __name__ == "__main__":
    main()
