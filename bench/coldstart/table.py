#!/usr/bin/env python3
"""Prints bench/coldstart results (JSON lines from run.sh) as Markdown tables."""
import json
import sys


def cell(d, key):
    if key not in d:
        return "-"
    v = d[key]
    return f"{v['median']:.0f} ({v['p10']:.0f}-{v['p90']:.0f})"


rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
runs = [r for r in rows if "runs" in r and "ratio_of_means" not in r]
abs_ = [r for r in rows if "ratio_of_means" in r]
print("| candidate | exec to first /next, ms | exec to first response (or exit), ms | CPU, ms |")
print("|---|---|---|---|")
for r in runs:
    end = cell(r, "resp_ms") if "resp_ms" in r else cell(r, "exit_ms")
    print(f"| {r['label']} | {cell(r, 'next_ms')} | {end} | {cell(r, 'cpu_ms')} |")
print("\nmedian (p10-p90) of", runs[0]["runs"] if runs else 0, "runs each")


def median(label, key):
    for r in runs:
        if r["label"] == label:
            return r[key]["median"]
    return None


for suffix in ["", " @0.3cpu"]:
    b = median("b erl halt" + suffix, "exit_ms")
    d = median("d mix release start" + suffix, "resp_ms")
    for v in ["jit", "emu", "host"]:
        a = median(f"a layer_{v} bootstrap" + suffix, "resp_ms")
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
