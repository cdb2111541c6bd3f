#!/usr/bin/env python3
"""Prints bench/coldstart results (initbench's JSON lines, from run.sh) as
Markdown tables: run rows as median (p10-p90) of their samples, then the
interleaved A/B comparisons and the idle RSS."""
import json
import statistics
import sys


def spread(xs):
    """median (p10-p90), as Python's statistics computes them."""
    if not xs:
        return "-"
    q = statistics.quantiles(xs, n=10) if len(xs) >= 2 else [xs[0]] * 9
    return f"{statistics.median(xs):.0f} ({q[0]:.0f}-{q[-1]:.0f})"


def columns(r):
    """The run row's samples: to the first /next, to the first response (or
    the exit), CPU (the group's at the first response, or the exited tree's)."""
    if r["mode"] == "exit":
        return [], r["samples_ms"], r["cpu_samples_ms"]
    return r["samples_ms"], r.get("resp_samples_ms", []), r.get("group_cpu_samples_ms", [])


rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
runs = [r for r in rows if "mode" in r]
abs_ = [r for r in rows if "ratio_of_means" in r]
print("| candidate | exec to first /next, ms | exec to first response (or exit), ms | CPU, ms |")
print("|---|---|---|---|")
for r in runs:
    nxt, end, cpu = columns(r)
    print(f"| {r['label']} | {spread(nxt)} | {spread(end)} | {spread(cpu)} |")
print("\nmedian (p10-p90) of", runs[0]["ms_n"] if runs else 0, "runs each")


def median_end(label):
    for r in runs:
        if r["label"] == label:
            return statistics.median(columns(r)[1])
    return None


for suffix in ["", " @0.3cpu"]:
    b = median_end("b erl halt" + suffix)
    d = median_end("d mix release start" + suffix)
    for v in ["jit", "emu", "host"]:
        a = median_end(f"a layer_{v} bootstrap" + suffix)
        if a and b and d:
            print(f"\n{suffix.strip() or 'unconstrained'}, layer_{v}: (a)/(b) = {a / b:.2f}x, (a)/(d) = {a / d:.2f}x")

for r in abs_:
    b, o = r["base"], r["ours"]
    end = "resp_ms" if r.get("base_mode") == "invoke" else "exit_ms"
    print(f"\n{r['label']} ({r['runs']} alternating runs each): {r['base_label']} "
          f"{b[end]['mean']:.0f} ms mean / {b[end]['median']:.0f} median, CPU "
          f"{b['cpu_ms']['mean']:.0f} ms; ours {o['resp_ms']['mean']:.0f} ms mean / "
          f"{o['resp_ms']['median']:.0f} median, CPU {o['cpu_ms']['mean']:.0f} ms; "
          f"ours/base = {r['ratio_of_means']:.2f}x of means, {r['ratio_of_medians']:.2f}x of medians "
          f"(to the first /next {r['next_ratio_of_means']:.2f}x of means), "
          f"CPU {r['cpu_ratio_of_means']:.2f}x")

for r in rows:
    if "rss_mib" in r:
        print(f"\nidle RSS after {r['invocations']} invocations, {r['label']}: "
              f"{r['rss_mib']} (total {r.get('rss_total_mib')} MiB; warm: {r['warm_invokes_per_s']} invokes/s)")
