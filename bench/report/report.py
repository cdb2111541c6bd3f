#!/usr/bin/env python3
"""Turns a bench/run.sh raw directory into one JSON document and a Markdown
report. Usage: report.py RAW_DIR OUT_PREFIX --command CMD [--latest PREFIX]

The figures come from summaries.py, the tables from tables.py, the OTP 27
section from otp.py; the rows and their legend are in rows.py."""
import argparse
import glob
import json
import os
import shutil

import otp
from rows import QUOTA, WHAT
from summaries import ab_summary, breakeven, init_summary, load, rss_summary, warm_summary
from tables import ab_md, breakeven_md, init_md, json_md, rss_md, warm_md


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
    md += otp.section(a.raw, doc, json_md)
    with open(f"{a.out}.json", "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
    with open(f"{a.out}.md", "w") as f:
        f.write("\n".join(md) + "\n")
    if a.latest:
        shutil.copyfile(f"{a.out}.json", f"{a.latest}.json")
        shutil.copyfile(f"{a.out}.md", f"{a.latest}.md")


if __name__ == "__main__":
    main()
