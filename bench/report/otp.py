"""The OTP 27 ÷ OTP 25 part of bench/report/report.py (bench/otp.sh runs): what each
layer's VM made of bootstrap's flags (bench/flags/probe.sh), the paired
ratios of each OTP 27 layer row to its OTP 25 counterpart, and the JSON
benchmark of both OTPs side by side."""
import glob
import os
import statistics as st

from rows import QUOTA
from summaries import load, med, paired_ratio
from tables import fmt, ratio

# OTP 27 row -> its OTP 25 counterpart (same flavor, same handler).
PAIRS = [("layer_otp27", "layer_emu"), ("layer_otp27jit", "layer_jit"),
         ("layer_otp27_heavy", "layer_emu_heavy"), ("layer_otp27jit_heavy", "layer_jit_heavy")]


def flags(raw):
    """bench/flags/probe.sh's output per layer variant: {variant: {key: value, "other": [lines]}}."""
    out = {}
    for p in sorted(glob.glob(f"{raw}/flags-*.txt")):
        v = os.path.basename(p)[len("flags-"):-len(".txt")]
        d, other, in_other = {}, [], False
        for line in open(p).read().splitlines():
            if line == "--- other output":
                in_other = True
            elif in_other and not line.startswith("bootstrap="):
                if line.strip():
                    other.append(line)
            elif "=" in line:
                k, val = line.split("=", 1)
                d[k] = val
        d["other"] = other
        out[v] = d
    return out


def flags_md(fl):
    lines = ["| layer | OTP | ERTS | flavor | schedulers | dirty CPU | dirty IO | binary_alloc | eheap_alloc "
             "| bootstrap | other output of the VM |",
             "|---|---|---|---|---:|---:|---:|---|---|---|---|"]
    for v, d in fl.items():
        other = "; ".join(d["other"])[:300] or "none"
        lines.append(f'| {v} | {d.get("otp", "?")} | {d.get("erts", "?")} | {d.get("flavor", "?")} | '
                     f'{d.get("schedulers", "?")} | {d.get("dirty_cpu", "?")} | {d.get("dirty_io", "?")} | '
                     f'{d.get("alloc.binary_alloc", "?")} | {d.get("alloc.eheap_alloc", "?")} | '
                     f'{d.get("bootstrap", "?")} | {other} |')
    return lines


def stray_output(raw):
    """Lines of the layer rows' runtime logs (stdout and stderr of every
    warm run) other than the runtime's own INFO lines: where a VM would
    say that it ignored or rejected a flag. {row: [up to 5 distinct lines]}."""
    out = {}
    for p in sorted(glob.glob(f"{raw}/runtime-layer_*.log")):
        row = os.path.basename(p)[len("runtime-"):-len(".log")]
        seen = []
        for line in open(p, errors="replace").read().splitlines():
            fields = line.split("\t")
            if not line.strip() or (len(fields) >= 4 and fields[2] == "INFO"):
                continue
            if line not in seen:
                seen.append(line)
        if seen:
            out[row] = seen[:5]
    return out


def _init_rounds(raw, rt):
    return {p.rsplit("-", 1)[1]: load(p) for p in glob.glob(f"{raw}/init-{rt}-*.json")}


def _init_paired(raw, rt, base, key):
    a, b = _init_rounds(raw, rt), _init_rounds(raw, base)
    return med([a[k][key] / b[k][key] for k in a if k in b and a[k].get(key) and b[k].get(key)])


def compare(raw, warm, init, rss):
    """Per OTP 27 row (and condition): ratios to its OTP 25 counterpart,
    paired by round (warm, init) or of medians (RSS)."""
    rows = []
    for cond in ["", QUOTA]:
        for r27, r25 in PAIRS:
            a, b = r27 + cond, r25 + cond
            row = {"row": a, "base": b}
            if a in warm and b in warm:
                row.update(warm_ips=(warm[b]["invokes_per_s"], warm[a]["invokes_per_s"]),
                           warm_ips_ratio=paired_ratio(warm[a]["per_round"], warm[b]["per_round"], "invokes_per_s"),
                           warm_cpu=(warm[b]["cpu_us_per_invoke"], warm[a]["cpu_us_per_invoke"]),
                           warm_cpu_ratio=paired_ratio(warm[a]["per_round"], warm[b]["per_round"],
                                                  "cpu_us_per_invoke"))
            if a in init and b in init:
                row.update(init_resp=(init[b]["resp_ms_p50"], init[a]["resp_ms_p50"]),
                           init_resp_ratio=_init_paired(raw, a, b, "resp_ms_p50"),
                           init_cpu=(init[b]["resp_cpu_ms_p50"], init[a]["resp_cpu_ms_p50"]),
                           init_cpu_ratio=_init_paired(raw, a, b, "resp_cpu_ms_p50"))
            if not cond and a in rss and b in rss:
                ra, rb = rss[a]["total_mib_p50"], rss[b]["total_mib_p50"]
                row.update(rss=(rb, ra), rss_ratio=ra / rb if ra and rb else None)
            if len(row) > 2:
                rows.append(row)
    return rows


def compare_md(rows):
    lines = ["| OTP 27 row | OTP 25 row | warm invokes/s 25 → 27 | ratio | CPU µs/invoke 25 → 27 | ratio "
             "| init → first response ms 25 → 27 | ratio | its CPU ms 25 → 27 | ratio | idle RSS MiB 25 → 27 "
             "| ratio |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def pair(r, key, nd=0):
        v = r.get(key)
        return f"{fmt(v[0], nd)} → {fmt(v[1], nd)}" if v else "–"

    for r in rows:
        lines.append(f'| {r["row"]} | {r["base"]} | {pair(r, "warm_ips")} | {ratio(r.get("warm_ips_ratio"))} | '
                     f'{pair(r, "warm_cpu")} | {ratio(r.get("warm_cpu_ratio"))} | {pair(r, "init_resp", 1)} | '
                     f'{ratio(r.get("init_resp_ratio"))} | {pair(r, "init_cpu")} | '
                     f'{ratio(r.get("init_cpu_ratio"))} | {pair(r, "rss", 1)} | {ratio(r.get("rss_ratio"))} |')
    return lines


def json_side_by_side_md(j25, j27):
    lines = ["| document | bytes | decode ours 25 | ours 27 | 27÷25 | jiffy 25 | jiffy 27 | ours÷jiffy 25 / 27 "
             "| encode ours 25 | ours 27 | 27÷25 | jiffy 25 | jiffy 27 | ours÷jiffy 25 / 27 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    by27 = {r["doc"]: r for r in j27["corpus"] + j27["large"] + j27["sweep"]}
    dec, enc = [], []
    for r in j25["corpus"] + j25["large"] + j25["sweep"]:
        s = by27.get(r["doc"])
        if not s:
            continue
        d = s["decode_per_s"]["ours"] / r["decode_per_s"]["ours"]
        e = s["encode_per_s"]["ours"] / r["encode_per_s"]["ours"]
        if r in j25["corpus"]:
            dec.append(d)
            enc.append(e)
        lines.append(f'| {r["doc"]} | {r["bytes"]:,} | {r["decode_per_s"]["ours"]:,} | {s["decode_per_s"]["ours"]:,} | '
                     f'{d:.2f} | {r["decode_per_s"]["jiffy"]:,} | {s["decode_per_s"]["jiffy"]:,} | '
                     f'{r["decode_ratio"]} / {s["decode_ratio"]} | {r["encode_per_s"]["ours"]:,} | '
                     f'{s["encode_per_s"]["ours"]:,} | {e:.2f} | {r["encode_per_s"]["jiffy"]:,} | '
                     f'{s["encode_per_s"]["jiffy"]:,} | {r["encode_ratio"]} / {s["encode_ratio"]} |')
    if dec:
        lines += ["", f"Event corpus, geometric mean of ours on OTP 27 ÷ ours on OTP 25: decode "
                      f"{st.geometric_mean(dec):.2f}, encode {st.geometric_mean(enc):.2f}."]
    return lines


def section(raw, doc, json_md):
    """Adds the OTP comparison to doc and returns its Markdown lines
    (json_md: report.py's per-run JSON tables, for the OTP 27 run's own)."""
    md = []
    fl = flags(raw)
    if fl:
        doc["flags"] = fl
        md += ["## What each layer's VM made of bootstrap's flags", "",
               "`bench/flags/probe.sh`: the layer's `bootstrap` started as Lambda starts it, with one "
               "`-eval` appended through `ERL_ZFLAGS` that prints the settings below and halts (allocators: "
               "instances, `t` from `+M<S>t`, `acul` from `+M<S>acul`). \"bootstrap\": whether the layer's "
               "`bootstrap` is the runtime's `bootstrap.sh` as is, flags included. A rejected flag would "
               "stop the VM before the probe; anything else the VM printed is in the last column. The "
               "busy-wait flags (`+sbwt*`) cannot be read back.", ""] + flags_md(fl) + [""]
    if glob.glob(f"{raw}/runtime-layer_*.log"):
        stray = stray_output(raw)
        doc["stray_output"] = stray
        md += ["Output of the layer rows' runtimes during the warm runs other than the runtime's INFO "
               "lines: " + ("none." if not stray else ""), ""]
        md += [f"- {row}: " + " / ".join(f"`{x[:200]}`" for x in lines) for row, lines in stray.items()]
        md += [""] if stray else []
    heavy = os.path.join(raw, "heavy-otp27.txt")
    rows = compare(raw, doc["warm"], doc["init"], doc["rss"])
    if rows:
        doc["otp_compare"] = rows
        md += ["## OTP 27 ÷ OTP 25, layer by layer", "",
               "Each OTP 27 layer row against the OTP 25 layer of the same flavor and handler: warm and "
               "init ratios are medians of per-round ratios (the two rows ran in the same round); RSS is "
               "the ratio of medians."]
        if os.path.exists(heavy):
            md += ["", "The heavy rows' expected response, computed on OTP 27 for the OTP 27 rows from "
                       f"the same event bytes: {open(heavy).read().strip()} to OTP 25's."]
        md += [""] + compare_md(rows) + [""]
    if os.path.exists(f"{raw}/json-otp27.json"):
        doc["json_otp27"] = load(f"{raw}/json-otp27.json")
        avg = load(f"{raw}/json-otp27.load.json") if os.path.exists(f"{raw}/json-otp27.load.json") else {}
        doc["json_otp27_load"] = avg
        versions = open(f"{raw}/root-versions.txt").read().split("\n") if os.path.exists(
            f"{raw}/root-versions.txt") else []
        v = ", ".join(x for x in versions if x) or "OTP 27"
        if "json" in doc:
            md += ["## JSON on OTP 25 and OTP 27 (median calls/s)", "",
                   f"The same `bench/json/bench.exs` on the host (OTP 25) and right after it in the "
                   f"Debian 13 root ({v}; its own build of the NIF and Debian 13's jiffy).", ""]
            md += json_side_by_side_md(doc["json"], doc["json_otp27"]) + [""]
        md += [f"### JSON on OTP 27 in full ({v})", ""] + json_md(doc["json_otp27"])
        if avg:
            md += ["", f'Load average before → after: {avg["before"]} → {avg["after"]}']
        md += [""]
    return md
