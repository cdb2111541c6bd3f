"""The report's Markdown tables, one function per section."""
import statistics as st


def fmt(x, nd=0):
    if x is None:
        return "–"
    return f"{x:,.{nd}f}"


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
