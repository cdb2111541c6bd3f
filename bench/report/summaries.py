"""From a bench/run.sh raw directory to figures: per row, the medians of
rounds and the paired ratios (warm, init), the interleaved A/B runs, idle
RSS, and the JIT's break-even."""
import glob
import json
import os
import statistics as st

from rows import INIT, LAYERS, LAYERS_HEAVY, QUOTA, WARM


def load(path):
    with open(path) as f:
        return json.load(f)


def med(xs):
    xs = [x for x in xs if x is not None]
    return st.median(xs) if xs else None


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
