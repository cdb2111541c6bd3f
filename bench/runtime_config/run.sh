#!/usr/bin/env bash
# The CPU cost of config/config.exs + config/runtime.exs at cold start
# (issue 14, item 2; target: under 5 ms for a small file). Each run is a
# fresh VM started with bootstrap.sh's flags and code path that measures
# one step once (probe.erl): the packaged configuration as the runtime
# applies it ("compiled"), no configuration ("none"), and, for comparison,
# runtime.exs evaluated from source with Config.Reader as a release does
# ("reader"). Prints the median and p90 of RUNS fresh VMs per mode.
#
#   bench/runtime_config/run.sh [RUNS]     (default 21)
#
# Builds this checkout (MIX_ENV=dev) and the configuration module
# (LambdaRuntime.Tools.Package.AppConfig) from bench/runtime_config/config/ into
# $WORK (default /tmp/lambda-runtime-config).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
RUNS=${1:-21}
WORK=${WORK:-/tmp/lambda-runtime-config}
rm -rf "$WORK"
mkdir -p "$WORK/task/lambda_runtime" "$WORK/probe"

(cd "$repo" && mix compile >/dev/null)
(cd "$repo" && mix run --no-start "$here/build_config.exs" "$WORK/task/lambda_runtime/config.beam")
erlc -o "$WORK/probe" "$here/probe.erl"

root=$(readlink -f "$(command -v erl)")
root=${root%/bin/erl}
for d in "$root"/erts-*/bin; do erts_bin=$d; done
elixir_lib=$(readlink -f "$(command -v elixir)")
elixir_lib=${elixir_lib%/bin/elixir}/lib
export ERL_CRASH_DUMP="$WORK/erl_crash.dump"
export ROOTDIR="$root" BINDIR="$erts_bin" EMU=beam PROGNAME=erl
export AWS_REGION=us-east-1 TABLE=orders LIMIT=250

probe() {
  # bootstrap.sh's flags for one poller.
  "$erts_bin/erlexec" -boot "$root/bin/no_dot_erlang" -noinput \
    +S 1:1 +SDcpu 1:1 +Muacul 0 +Mut false +SDio 4 +sbwt none +sbwtdcpu none +sbwtdio none +Bd \
    -start_epmd false -kernel shell_history disabled -elixir ansi_enabled false \
    -pa "$elixir_lib/elixir/ebin" "$elixir_lib/logger/ebin" \
    "$repo/_build/dev/lib/lambda_runtime/ebin" "$WORK/probe" \
    -run probe main "$1" "$WORK/task" "$here/config/runtime.exs"
}

for mode in none compiled reader; do
  for _ in $(seq "$RUNS"); do probe "$mode"; done
done | python3 -c '
import sys, statistics
rows = {}
for line in sys.stdin:
    mode, cpu, wall = line.split()
    rows.setdefault(mode, []).append((float(cpu), float(wall)))
print("| step (fresh VM, bootstrap.sh flags) | runs | CPU ms median | CPU ms p90 | wall ms median |")
print("|---|---|---|---|---|")
names = {"none": "no configuration (one file lookup)",
         "compiled": "config.exs + runtime.exs, packaged (LambdaRuntime.AppConfig)",
         "reader": "runtime.exs from source (Config.Reader, as a release)"}
for mode in ["none", "compiled", "reader"]:
    xs = rows.get(mode, [])
    if not xs: continue
    cpu = sorted(x[0] for x in xs); wall = sorted(x[1] for x in xs)
    p90 = cpu[min(len(cpu) - 1, int(round(0.9 * (len(cpu) - 1))))]
    print(f"| {names[mode]} | {len(xs)} | {statistics.median(cpu):.2f} | {p90:.2f} | {statistics.median(wall):.2f} |")
'
